from pathlib import Path

import pytest

from assistant.uploads import UploadError, file_size, safe_filename, save_upload


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("/abs/path/news.MD", "news.md"),
        ("..\\..\\windows\\evil.html", "evil.html"),
        ("..", "upload"),
        (".hidden.txt", "hidden.txt"),
        ("a\x00b<>|?.txt", "ab_.txt"),
        ("rapport été.pdf", "rapport été.pdf"),
    ],
)
def test_safe_filename(given: str, expected: str) -> None:
    assert safe_filename(given) == expected


def test_long_names_keep_their_extension() -> None:
    name = safe_filename("x" * 500 + ".jsonl")
    assert len(name) <= 120 and name.endswith(".jsonl")


def test_save_stays_inside_the_folder(tmp_path: Path) -> None:
    src = tmp_path / "incoming"
    src.write_text("An article.", encoding="utf-8")
    folder = tmp_path / "uploads"
    saved = save_upload(src, "../../outside.txt", folder, max_bytes=1000)
    assert saved.path == (folder / "outside.txt").resolve()
    assert saved.path.read_text(encoding="utf-8") == "An article."
    assert not (tmp_path / "outside.txt").exists()


def test_a_symlink_planted_in_the_folder_is_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "uploads"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    (folder / "a.txt").symlink_to(victim)
    src = tmp_path / "incoming"
    src.write_text("overwrite", encoding="utf-8")
    with pytest.raises(UploadError, match="outside the upload folder"):
        save_upload(src, "a.txt", folder, max_bytes=1000)
    assert victim.read_text(encoding="utf-8") == "keep me"


def test_oversized_and_unsupported_uploads_are_refused_with_the_reason(tmp_path: Path) -> None:
    src = tmp_path / "incoming"
    src.write_bytes(b"x" * 2000)
    with pytest.raises(UploadError, match=r"too large \(2.0 KB\); the limit is 1.0 KB, set by ASSISTANT_MAX_UPLOAD_MB"):
        save_upload(src, "big.txt", tmp_path / "uploads", max_bytes=1000)
    with pytest.raises(UploadError, match="unsupported file type '.exe'"):
        save_upload(src, "tool.exe", tmp_path / "uploads", max_bytes=10_000)
    for name in ("a.txt", "a.md", "a.html", "a.pdf", "a.jsonl"):
        assert save_upload(src, name, tmp_path / "ok", max_bytes=10_000).path.name == name
    assert not (tmp_path / "uploads").exists()


def test_file_size() -> None:
    assert [file_size(n) for n in (12, 3400, 56_700_000)] == ["12 bytes", "3.4 KB", "56.7 MB"]
