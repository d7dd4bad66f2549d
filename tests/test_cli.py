"""The `jaxact plot` and `jaxact demo` commands, the figures and the HTML report."""
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest

import jaxact
from jaxact import cli, demo
from jaxact.report import PNG_SIGNATURE, render_report

VOID = {"meta", "img", "br", "hr", "link", "input", "col", "area", "base", "source", "wbr"}


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), path
    assert len(data) > 100, path


class _Checker(HTMLParser):
    """Checks that tags nest and close, and collects the img sources and links."""

    def __init__(self):
        super().__init__()
        self.stack, self.srcs, self.text, self.errors = [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("src", "href"):
            if key in attrs:
                self.srcs.append(attrs[key])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check_html(text: str) -> _Checker:
    assert text.startswith("<!DOCTYPE html>")
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert not checker.errors and not checker.stack, (checker.errors, checker.stack)
    for src in checker.srcs:
        assert src.startswith(("data:image/png;base64,", "#")), src[:60]
    assert "http://" not in text and "https://" not in text
    return checker


# ----------------------------------------------------------------------------
# jaxact plot
# ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def all_figures(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures")
    assert cli.main(["plot", "--out", str(out), "--dpi", "20"]) == 0
    return out


def test_plot_all_names_writes_one_png_each_and_an_overview(all_figures):
    pngs = sorted(all_figures.glob("*.png"))
    assert {p.stem for p in pngs} == {*jaxact.names(), "overview"}
    for p in pngs:
        assert_png(p)


def test_plot_some_names_and_aliases(tmp_path, capsys):
    assert cli.main(["plot", "--out", str(tmp_path), "--dpi", "30", "relu", "softmax", "linear", "glu"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "glu.png", "identity.png", "overview.png", "relu.png", "softmax.png"
    ]
    for p in tmp_path.iterdir():
        assert_png(p)
    assert "wrote 5 PNGs" in capsys.readouterr().out


def test_plot_curves_match_the_registry():
    import numpy as np

    from jaxact.plot import curve

    c = curve("softmax", x=[-1.0, 0.0, 2.0])  # softmax([x, 0])[0] is sigmoid(x)
    s = 1 / (1 + np.exp(-c.x))
    np.testing.assert_allclose(c.value, s, rtol=1e-6)
    np.testing.assert_allclose(c.derivative, s * (1 - s), rtol=1e-5)
    g = curve("glu", x=[-1.0, 0.0, 2.0])  # glu([x, x]) is x * sigmoid(x)
    np.testing.assert_allclose(g.value, g.x * s, rtol=1e-6)
    e = curve("elu", x=[-1.0, 1.0], params={"alpha": 0.5})
    np.testing.assert_allclose(e.derivative, [0.5 * np.exp(-1.0), 1.0], rtol=1e-6)
    with pytest.raises(jaxact.ActivationError, match="unknown parameter"):
        curve("elu", params={"beta": 1.0})


def test_plot_activation_draws_into_given_axes():
    from jaxact.plot import new_figure, plot_activation

    ax = new_figure().add_subplot()
    assert plot_activation("tanh", ax=ax) is ax
    assert len(ax.lines) >= 2


def test_plot_unknown_name_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "figs"
    assert cli.main(["plot", "--out", str(out), "relu", "sigmod"]) == 2
    err = capsys.readouterr().err
    assert "jaxact plot: error:" in err and "'sigmod'" in err and "Did you mean 'sigmoid'" in err
    assert not out.exists()  # names are checked before anything is written


def test_plot_unknown_name_from_the_shell_has_no_traceback(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "jaxact", "plot", "--out", str(tmp_path), "reluu"],
        capture_output=True, text=True,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and "unknown activation 'reluu'" in run.stderr


@pytest.mark.parametrize(
    "argv, message",
    [
        (["plot", "relu"], "the following arguments are required: --out"),
        (["plot", "--out", "x", "--dpi", "high"], "invalid int value: 'high'"),
        (["demo", "--out", "x", "--fast"], "unrecognized arguments: --fast"),
        (["demo"], "the following arguments are required: --out"),
    ],
)
def test_bad_flags_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_output_folder_that_is_a_file_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cli.main(["plot", "--out", str(blocker / "sub"), "relu"]) == 2
    assert "jaxact plot: error: cannot write the figures" in capsys.readouterr().err
    sections = (demo.DemoSection("table", "jaxact:table"),)
    with pytest.raises(demo.DemoError, match="cannot create the output folder"):
        demo.run_demo(blocker / "sub", sections=sections, progress=False)


def test_plot_rejects_non_positive_dpi(tmp_path, capsys):
    assert cli.main(["plot", "--out", str(tmp_path), "--dpi", "0", "relu"]) == 2
    assert "--dpi must be a positive integer" in capsys.readouterr().err


# ----------------------------------------------------------------------------
# the report
# ----------------------------------------------------------------------------
def test_report_is_self_contained_escaped_and_well_formed(all_figures):
    sections = [
        {
            "title": "Losses <&> gains",
            "summary": 'a "quoted" <script>alert(1)</script> summary',
            "columns": ["name", "loss", "ok"],
            "rows": [{"name": "a<b", "loss": 0.123456789, "ok": True}, {"name": "c"}],
            "figures": [("relu & co", all_figures / "relu.png"), (all_figures / "overview.png").read_bytes()],
            "seconds": 1.25,
            "run_with": {"steps": 10},
        },
        {"title": "Second", "summary": "only a table", "columns": ["x"], "rows": [[1], [2.5]]},
    ]
    text = render_report(sections, header={"jaxact": "0.1.0", "device": "cpu"}, total_seconds=3.0)
    checker = check_html(text)
    visible = "".join(checker.text)
    assert "Losses <&> gains" in visible and "Second" in visible
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "0.1235" in visible and "a<b" in visible and "steps=10" in visible
    assert text.count("data:image/png;base64,") == 2
    assert "3.0 s" in visible


def test_report_rejects_a_figure_that_is_not_png(tmp_path):
    bad = tmp_path / "x.png"
    bad.write_bytes(b"GIF89a...")
    with pytest.raises(ValueError, match="not a PNG"):
        render_report([{"title": "t", "figures": [bad]}], header={})


# ----------------------------------------------------------------------------
# jaxact demo, against fake examples that follow the run() contract
# ----------------------------------------------------------------------------
FAKE_EXAMPLE = '''
"""A fake example for the demo tests: run(**settings) -> dict."""
from pathlib import Path

def run(out_dir=None, **settings):
    figures = []
    if out_dir is not None:
        from matplotlib.figure import Figure
        fig = Figure(figsize=(2, 1.5))
        fig.add_subplot().plot([0, 1, 2], [0, 1, 0])
        if {mode!r} == "writes":
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            fig.savefig(Path(out_dir) / "curve.png", dpi=30)
        else:
            figures.append(("a returned figure", fig))
    return {{
        "title": "Fake {name}",
        "summary": "{name}: " + ", ".join(f"{{k}}={{v}}" for k, v in sorted(settings.items())),
        "columns": ["setting", "value"],
        "rows": [{{"setting": k, "value": v}} for k, v in sorted(settings.items())],
        "figures": figures,
        "extra": object(),
    }}
'''


def write_examples(folder: Path, modules, **sources) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, module in enumerate(modules):
        mode = "writes" if i % 2 else "returns"
        (folder / f"{module}.py").write_text(FAKE_EXAMPLE.format(name=module, mode=mode))
    for module, source in sources.items():
        (folder / f"{module}.py").write_text(textwrap.dedent(source))
    return folder


def example_modules():
    return [s.module for s in demo.DEMO_SECTIONS if not s.module.startswith("jaxact:")]


def test_demo_with_fake_examples_writes_report_pngs_and_summary(tmp_path, capsys):
    examples = write_examples(tmp_path / "examples", example_modules())
    out = tmp_path / "out"
    assert cli.main(["demo", "--out", str(out), "--examples-dir", str(examples), "--quick"]) == 0
    captured = capsys.readouterr()
    report = out / "report.html"
    text = report.read_text(encoding="utf-8")
    checker = check_html(text)
    visible = "".join(checker.text)
    assert "Comparison table" in visible and "Activation functions and their derivatives" in visible
    for s in demo.DEMO_SECTIONS:
        if s.module.startswith("jaxact:"):
            continue
        assert f"Fake {s.module}" in visible
        settings = ", ".join(f"{k}={v}" for k, v in sorted(s.run_with(quick=True).items()))
        assert f"{s.module}: {settings}" in captured.out  # the --quick settings reached run()
    # one inline figure per fake example plus the overview grid
    assert text.count("data:image/png;base64,") == len(example_modules()) + 1
    pngs = sorted(out.rglob("*.png"))
    assert len(pngs) == len(demo.ARTICLE_EIGHT) + 1 + len(example_modules())
    for p in pngs:
        assert_png(p)
    assert f"report: {report.resolve()}" in captured.out
    assert f"jaxact demo: {len(demo.DEMO_SECTIONS)} sections" in captured.out
    assert "section" in captured.err  # the progress bar


def test_demo_reports_a_failing_section_and_goes_on(tmp_path, capsys):
    examples = write_examples(
        tmp_path / "ex",
        ["good"],
        broken="""
        def run(steps=1):
            raise RuntimeError("diverged at step 3")
        """,
        wrong="""
        def run():
            return {"title": "no rows", "summary": "s", "columns": []}
        """,
        notpng="""
        def run():
            return {"title": "t", "summary": "s", "columns": [], "rows": [], "figures": [b"GIF89a"]}
        """,
    )
    sections = (
        demo.DemoSection("table", "jaxact:table"),
        demo.DemoSection("broken", "broken", {"steps": 2}),
        demo.DemoSection("wrong", "wrong"),
        demo.DemoSection("notpng", "notpng"),
        demo.DemoSection("good", "good", {"epochs": 7}),
    )
    results, report = demo.run_demo(tmp_path / "out", examples_dir=examples, sections=sections, progress=False)
    assert [r["ok"] for r in results] == [True, False, False, False, True]
    assert "RuntimeError: diverged at step 3" in results[1]["summary"]
    assert "result['rows'] should be a list" in results[2]["summary"]
    assert "is not a PNG image" in results[3]["summary"]
    text = report.read_text(encoding="utf-8")
    check_html(text)
    assert "diverged at step 3" in text and "Traceback" in text and "Fake good" in text
    assert "good: epochs=7" in text and "run with: <code>epochs=7</code>" in text


def test_demo_exit_code_1_when_a_section_fails(tmp_path, monkeypatch, capsys):
    examples = write_examples(tmp_path / "ex", [], boom="def run():\n    raise ValueError('boom')\n")
    monkeypatch.setattr(demo, "DEMO_SECTIONS", (demo.DemoSection("boom", "boom"),))
    assert cli.main(["demo", "--out", str(tmp_path / "o"), "--examples-dir", str(examples), "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "FAILED" in captured.out and "some sections failed" in captured.err
    assert (tmp_path / "o" / "report.html").is_file()


def test_demo_without_examples_dir_is_a_clear_error(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert cli.main(["demo", "--out", str(tmp_path / "o"), "--examples-dir", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "jaxact demo: error: examples directory not found" in err and str(missing) in err
    assert not (tmp_path / "o").exists()


def test_demo_default_examples_dir_is_next_to_the_package():
    assert demo.default_examples_dir() == Path(jaxact.__file__).resolve().parent.parent / "examples"


def test_demo_checks_modules_and_settings_before_running(tmp_path):
    examples = write_examples(tmp_path / "ex", [], strict="def run(*, epochs=1):\n    raise AssertionError\n")
    bad_setting = (demo.DemoSection("strict", "strict", {"steps": 3}),)
    with pytest.raises(demo.DemoError, match=r"examples/strict.py: run\(\) does not accept .*takes: epochs"):
        demo.run_demo(tmp_path / "o", examples_dir=examples, sections=bad_setting, progress=False)
    missing = (demo.DemoSection("gone", "gone"),)
    with pytest.raises(demo.DemoError, match="example 'gone' not found"):
        demo.run_demo(tmp_path / "o", examples_dir=examples, sections=missing, progress=False)
    assert not (tmp_path / "o").exists()


def test_demo_sections_table_is_consistent():
    keys = [s.key for s in demo.DEMO_SECTIONS]
    assert len(set(keys)) == len(keys)
    assert keys[:2] == ["table", "figures"]
    for s in demo.DEMO_SECTIONS:
        assert set(s.quick) <= set(s.settings) | {"names"}, s.key


def test_demo_settings_fit_the_real_examples():
    """DEMO_SECTIONS' settings (demo and --quick) are accepted by the examples that exist."""
    examples = demo.default_examples_dir()
    present = [s for s in demo.DEMO_SECTIONS if (examples / f"{s.module}.py").is_file()]
    if not present:
        pytest.skip("no examples/ next to the package")
    for quick in (False, True):
        planned = demo._plan(present, examples, quick)
        assert [p.section.key for p in planned] == [s.key for s in present]
