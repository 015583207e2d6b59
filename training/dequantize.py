"""Experiment (2026-12-04, reverted): fp32 torch weights dequantized from an exported int8 ONNX reader, to train on from the shipped model. python -m training.dequantize SRC OUT"""
import sys
from pathlib import Path
import numpy as np, onnx, torch
from onnx import numpy_helper
from transformers import AutoModelForQuestionAnswering, AutoTokenizer
from training.train_reader import base_model

src, out = Path(sys.argv[1]), Path(sys.argv[2])
m = onnx.load(str(src / "model.onnx"))
init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
state = {}
for n in m.graph.node:
    if n.op_type == "MatMulInteger":
        w = n.input[1].removesuffix("_quantized")
        q = init[n.input[1]].astype(np.float32); zp = init[w + "_zero_point"].astype(np.float32); sc = init[w + "_scale"]
        mod = n.output[0].removeprefix("/").split("/MatMul")[0].replace("/", ".")
        state[mod + ".weight"] = torch.tensor(((q - zp) * sc).T.copy())
    elif n.op_type == "DequantizeLinear":
        gather = next(g for g in m.graph.node if g.output[0] == n.input[0])
        q = init[gather.input[0]].astype(np.float32); sc = init[n.input[1]]; zp = init[n.input[2]].astype(np.float32)
        name = n.input[1].removesuffix("_scale")
        if sc.ndim == 1 and sc.shape[0] == q.shape[0]:
            v = (q - zp[:, None]) * sc[:, None]
        else:
            v = (q - zp) * sc
        state[name] = torch.tensor(v.copy())
for k, v in init.items():
    if k.startswith(("bert.", "qa_outputs.")) and not k.endswith(("_scale", "_zero_point", "_quantized")):
        state[k] = torch.tensor(v.copy())
model = AutoModelForQuestionAnswering.from_pretrained(str(base_model()), local_files_only=True)
own = model.state_dict()
missing = [k for k in own if k not in state]
print("missing", missing)
print("extra", [k for k in state if k not in own])
for k in state: assert state[k].shape == own[k].shape, (k, state[k].shape, own[k].shape)
model.load_state_dict({**own, **state})
model.save_pretrained(out); AutoTokenizer.from_pretrained(str(base_model())).save_pretrained(out)
import onnxruntime as ort
tok = AutoTokenizer.from_pretrained(str(out))
enc = tok("Who won?", "The Denver Broncos won the game against the Panthers 24-10.", return_tensors="np")
sess = ort.InferenceSession(str(src / "model.onnx"))
o = sess.run(None, {k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids")})
with torch.no_grad():
    t = model.eval()(**{k: torch.tensor(enc[k]) for k in ("input_ids", "attention_mask", "token_type_ids")})
print("diff", np.abs(o[0] - t.start_logits.numpy()).max(), o[0].argmax(), t.start_logits.argmax().item())
