"""The README stays a newcomer's page: short, citing the paper, every link it gives resolving,
and its commands naming what exists (presets are checked in test_cli_options)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
MAX_WORDS = 1500   # results prose, reliability details and timing history live in docs/


def prose_words(text: str) -> int:
    """Words a reader reads: code blocks count, markdown link targets do not."""
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return len(text.split())


def test_readme_is_short():
    assert prose_words(README) <= MAX_WORDS, (
        f"README.md has {prose_words(README)} words (at most {MAX_WORDS}): move details to docs/")


def test_readme_cites_the_paper():
    assert "10.1088/2634-4386/acf1c5" in README and "arxiv.org/abs/2207.09755" in README


def test_readme_links_resolve():
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [t for t in targets if not re.match(r"[a-z]+://", t)]
    assert local, "the README links to its docs"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, f"README links to files that do not exist: {missing}"


def test_readme_module_commands_exist():
    """`python -m benchmarks.NAME` and `python -m lava_ssnnbp.NAME` name real modules."""
    for pkg, name in re.findall(r"python -m (benchmarks|lava_ssnnbp)\.([a-z_]+)", README):
        assert (ROOT / pkg / f"{name}.py").exists() or (ROOT / pkg / name / "__init__.py").exists(), \
            f"README runs python -m {pkg}.{name}, which does not exist"


def test_prose_word_count_can_fail():
    assert prose_words("a [b](c d e) f\ng h") == 5   # the link's target (3 words) is not counted
