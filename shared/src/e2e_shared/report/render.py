"""Write a merge's outputs: junit.xml, summary.json, summary.md and a self-contained index.html."""

from __future__ import annotations

import html
import json
import os
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import quote

from junitparser import JUnitXml

from ..config import shown_path
from .environment import collect
from .model import Attempt, CaseRow, MergeResult, SuiteRow, iso_utc, summary_line

MD_MAX_FAILURES = 50  # GitHub caps a step summary at 1 MiB
HTML_MAX_FAILURES = 200
HTML_MAX_CASES = 20_000  # rows of the tests table; past that, passing tests are left out
_IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp"})
BUNDLE_MAX_CHARS = 20_000  # per block of a failure bundle; the tail is kept (log tails matter)
STATUS_MARK = {"passed": "✅", "failed": "❌", "skipped": "⏭️", "flaky": "⚠️", "empty": "∅"}


def write_outputs(
    result: MergeResult, root: JUnitXml, out_dir: Path, step_summary: Path | None = None
) -> None:
    """Write the four reports into ``out_dir`` and record their paths in ``result.outputs``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if not result.environment:
        result.environment = collect()
    outputs = {
        "junit": out_dir / "junit.xml",
        "summary_json": out_dir / "summary.json",
        "summary_md": out_dir / "summary.md",
        "index_html": out_dir / "index.html",
    }
    root.write(str(outputs["junit"]))
    outputs["summary_json"].write_text(
        json.dumps(result.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    markdown = render_markdown(result)
    outputs["summary_md"].write_text(markdown, encoding="utf-8")
    outputs["index_html"].write_text(render_html(result, out_dir), encoding="utf-8")
    if step_summary is not None:
        with step_summary.open("a", encoding="utf-8") as f:
            f.write(markdown)
    result.outputs = outputs


# -- markdown ---------------------------------------------------------------------------------


def _first_line(text: str, limit: int) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[: limit - 1] + "…" if len(line) > limit else line


def _md(text: str, limit: int = 160) -> str:
    """A table cell of text: first line, cut at ``limit``; HTML and pipes escaped."""
    return html.escape(_first_line(text, limit), quote=False).replace("|", "\\|")


def _md_code(text: str, limit: int = 200) -> str:
    """A table cell in a code span, where only pipes (and backticks) need care."""
    return "`" + _first_line(text, limit).replace("`", "'").replace("|", "\\|") + "`"


def render_markdown(result: MergeResult) -> str:
    t = result.totals
    mark = {"pass": "✅ pass", "fail": "❌ fail"}.get(result.verdict, f"⛔ {result.verdict}")
    out = [
        f"## E2E: {mark}{' (strict)' if result.strict else ''}",
        "",
        f"`{summary_line(result)}`",
        "",
        "| # | phase | suite | status | tests | passed | failed | errored | skipped | flaky "
        "| duration |",
        "| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result.rows:
        c = row.counts
        status = f"{STATUS_MARK.get(row.status, '')} {row.status}"
        if row.skip_reason:
            status += f": {_md(row.skip_reason, 80)}"
        out.append(
            f"| {row.order + 1} | {_md(row.phase)} | {_md(row.suite)} | {status} | {c.tests} "
            f"| {c.passed} | {c.failed} | {c.errored} | {c.skipped} | {c.flaky} "
            f"| {row.duration:.1f}s |"
        )
    out += [
        f"| | **total** | | | **{t.tests}** | **{t.passed}** | **{t.failed}** | **{t.errored}** "
        f"| **{t.skipped}** | **{t.flaky}** | **{result.duration:.1f}s** |",
        "",
    ]
    if result.failures:
        out += [f"### Failures ({len(result.failures)})", "", "| phase-suite | test | message |",
                "| --- | --- | --- |"]
        for case in result.failures[:MD_MAX_FAILURES]:
            out.append(
                f"| {_md(case.phase)}-{_md(case.suite)} | {_md_code(case.test)} "
                f"| {_md(case.message) or case.outcome} |"
            )
        if len(result.failures) > MD_MAX_FAILURES:
            out.append(f"\n… and {len(result.failures) - MD_MAX_FAILURES} more in summary.json")
        out.append("")
    if result.flaky:
        verb = "counted as failed (strict)" if result.strict else "passed on rerun"
        out += [f"### Flaky ({len(result.flaky)}, {verb})", "",
                "| phase-suite | test | first attempt |", "| --- | --- | --- |"]
        for case in result.flaky[:MD_MAX_FAILURES]:
            out.append(
                f"| {_md(case.phase)}-{_md(case.suite)} | {_md_code(case.test)} "
                f"| {_md(case.message)} |"
            )
        out.append("")
    if result.slowest:
        out += [f"### Slowest {len(result.slowest)}", "", "| time | phase-suite | test |",
                "| ---: | --- | --- |"]
        for slow in result.slowest:
            out.append(
                f"| {slow.time:.2f}s | {_md(slow.phase)}-{_md(slow.suite)} "
                f"| {_md_code(slow.test)} |"
            )
        out.append("")
    out += _resources_markdown(result.resources)
    if result.warnings:
        out += ["### Warnings", ""] + [f"- {_md(w, 400)}" for w in result.warnings] + [""]
    return "\n".join(out) + "\n"


def _signed(value: float, digits: int = 1) -> str:
    return f"{value:+.{digits}f}"


def _resources_markdown(resources: dict[str, Any] | None) -> list[str]:
    """A short table of each service's peaks and growth; one line when not watched."""
    if resources is None:
        return []
    if not resources.get("watched"):
        return ["### Resources", "", f"Not watched: {_md(resources.get('why', ''), 200)}.", ""]
    out = [f"### Resources ({resources.get('duration', 0):.0f}s, every "
           f"{resources.get('interval', 1):g}s; growth is last minus first)", "",
           "| service | RSS peak | RSS growth | fds peak | fds growth | threads peak | CPU peak "
           "| CPU mean | restarts |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, svc in resources.get("services", {}).items():
        if "rss_mb" not in svc:
            out.append(f"| {_md(name)} | not sampled | | | | | | | |")
            continue
        rss, fds, thr, cpu = svc["rss_mb"], svc["fds"], svc["threads"], svc["cpu"]
        out.append(f"| {_md(name)} | {rss['peak']:.1f} MB | {_signed(rss['growth'])} MB "
                   f"| {fds['peak']:.0f} | {_signed(fds['growth'], 0)} | {thr['peak']:.0f} "
                   f"| {cpu['peak']:.0f}% | {cpu['mean']:.0f}% | {svc.get('restarts', 0)} |")
    return out + [""]


# -- html -------------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2328;
background:#fff}
main{max-width:1200px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;
padding-bottom:4px}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:8px;overflow:auto;
max-height:420px;white-space:pre-wrap;word-break:break-word}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #eaeef2;padding:4px 8px;
text-align:left;vertical-align:top}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.verdict{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff;font-size:14px;
vertical-align:middle}
.verdict.pass{background:#1a7f37}.verdict.fail{background:#cf222e}.verdict.interrupted{background:#9a6700}
.line{font-family:ui-monospace,monospace;background:#f6f8fa;padding:6px 10px;border-radius:6px;
display:inline-block}
.tl{display:grid;grid-template-columns:200px 1fr 70px;gap:3px 10px;align-items:center}
.tl .label{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.tl .label.suite{padding-left:18px;color:#57606a}.tl .label.phase{font-weight:600}
.track{position:relative;height:16px;background:#f6f8fa;border-radius:3px}
.bar{position:absolute;top:0;bottom:0;border-radius:3px;min-width:3px}
.tl .dur{text-align:right;font-variant-numeric:tabular-nums;color:#57606a}
.axis{display:flex;justify-content:space-between;color:#57606a;font-size:12px}
.s-passed{background:#2da44e}.s-failed{background:#cf222e}.s-skipped{background:#8c959f}
.s-flaky{background:#d4a72c}.s-empty{background:#d0d7de}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px}
details{border:1px solid #d0d7de;border-radius:6px;margin:6px 0;padding:4px 10px}
details summary{cursor:pointer}details .msg{color:#cf222e}
.warn li{color:#9a6700}.muted{color:#57606a}
.filters{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:6px 0 10px}
.filters button{border:1px solid #d0d7de;background:#f6f8fa;border-radius:14px;padding:2px 10px;
cursor:pointer;font:inherit}.filters button.on{background:#0969da;color:#fff;border-color:#0969da}
.filters .n{opacity:.75}#q{flex:1;min-width:220px;padding:4px 8px;border:1px solid #d0d7de;
border-radius:6px;font:inherit}
#tests td.msg{color:#cf222e;max-width:320px;overflow:hidden;text-overflow:ellipsis;
white-space:nowrap}#tests code{overflow-wrap:anywhere}#tests th:nth-child(3){width:50%}
#tests tr[data-s=skipped] td.msg{color:#57606a}
#tests td:first-child::before{content:'';display:inline-block;width:10px;height:10px;
border-radius:50%;margin-right:6px;background:#2da44e}
#tests tr[data-s=failed] td:first-child::before{background:#cf222e}
#tests tr[data-s=skipped] td:first-child::before{background:#8c959f}
#tests tr[data-s=flaky] td:first-child::before{background:#d4a72c}
#tests td.ps,#tests td:first-child{white-space:nowrap}
.group{border-left:3px solid #cf222e;padding-left:10px;margin:10px 0}
.ghead{margin:4px 0}.count{font-weight:700;color:#cf222e}
.attempt{border-top:1px dashed #d0d7de;margin-top:6px;padding-top:6px}
.ahead{margin-bottom:4px}.msg{color:#cf222e}
.shots img{max-width:360px;max-height:240px;border:1px solid #d0d7de;border-radius:4px;
margin:4px 8px 4px 0}
code.cmd{background:#f6f8fa;padding:1px 6px;border-radius:4px}
button.copy{font-size:11px;padding:0 6px;cursor:pointer}
table.env th{width:180px;color:#57606a;font-weight:500}
table.res td{vertical-align:middle}table.res th{white-space:nowrap}svg.spark{display:block}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _tail(text: str) -> str:
    if len(text) <= BUNDLE_MAX_CHARS:
        return text
    cut = len(text) - BUNDLE_MAX_CHARS
    return f"… ({cut} characters cut; the full text is in junit.xml)\n" + text[cut:]


def attachment_href(path: str, out_dir: Path) -> str | None:
    """A link to an attachment; None for anything with a URL scheme.

    The merge records attachments relative to ``out_dir`` (``reports/``), as junit.xml does.
    """
    if "://" in path:
        return None
    rel = os.path.relpath(_resolve(path, out_dir), out_dir.resolve())
    return quote(rel.replace(os.sep, "/"))


def _timeline(result: MergeResult) -> str:
    rows = result.rows
    if not rows:
        return "<p class='muted'>No suites ran.</p>"
    t0 = min(r.start for r in rows)
    span = max(max(r.start + r.duration for r in rows) - t0, 1e-6)

    def bar(start: float, duration: float, status: str, title: str) -> str:
        left = (start - t0) / span * 100
        width = duration / span * 100
        return (
            f"<div class='track'><div class='bar s-{status}' style='left:{left:.2f}%;"
            f"width:{width:.2f}%' title='{_e(title)}'></div></div>"
        )

    parts = ["<div class='tl'>"]
    phases: dict[str, list[SuiteRow]] = {}
    for row in rows:
        phases.setdefault(row.phase, []).append(row)
    for phase, members in phases.items():
        start = min(r.start for r in members)
        end = max(r.start + r.duration for r in members)
        statuses = {r.status for r in members}
        status = next(
            (s for s in ("failed", "flaky", "passed", "skipped") if s in statuses), "empty"
        )
        parts.append(
            f"<div class='label phase'>{_e(phase)}</div>"
            + bar(start, end - start, status, f"{phase}: {status}, {end - start:.1f}s")
            + f"<div class='dur'>{end - start:.1f}s</div>"
        )
        for r in members:
            c = r.counts
            title = (
                f"{r.name}: {r.status}, {c.tests} tests, {c.failed + c.errored} failed, "
                f"started {iso_utc(r.start)} UTC, {r.duration:.1f}s"
            )
            parts.append(
                f"<div class='label suite'>{_e(r.suite)}</div>"
                + bar(r.start, r.duration, r.status, title)
                + f"<div class='dur'>{r.duration:.1f}s</div>"
            )
    parts.append("</div>")
    parts.append(f"<div class='axis'><span>0s ({_e(iso_utc(t0))} UTC)</span>"
                 f"<span>{span:.1f}s</span></div>")
    return "".join(parts)


def _suites_table(result: MergeResult) -> str:
    head = ("<table><tr><th>#</th><th>phase</th><th>suite</th><th>status</th><th class='n'>tests"
            "</th><th class='n'>passed</th><th class='n'>failed</th><th class='n'>errored</th>"
            "<th class='n'>skipped</th><th class='n'>flaky</th><th class='n'>duration</th>"
            "<th>shards</th></tr>")
    rows = []
    for r in result.rows:
        c = r.counts
        reason = f" <span class='muted'>{_e(r.skip_reason)}</span>" if r.skip_reason else ""
        rows.append(
            f"<tr><td>{r.order + 1}</td><td>{_e(r.phase)}</td><td>{_e(r.suite)}</td>"
            f"<td><span class='dot s-{r.status}'></span>{r.status}{reason}</td>"
            + "".join(f"<td class='n'>{v}</td>" for v in (
                c.tests, c.passed, c.failed, c.errored, c.skipped, c.flaky, f"{r.duration:.1f}s"))
            + f"<td>{_e(', '.join(r.shards))}</td></tr>"
        )
    return head + "".join(rows) + "</table>"


_E_LINE = re.compile(r"^E {2,}(\S.*)$", re.MULTILINE)


def _headline(message: str, text: str = "") -> str:
    """What a failure says in one line, and what groups identical failures: pytest's first
    ``E   `` line of the text (the exception as raised) when there is one, else the first line
    of the message, else of the text. pytest's own ``message`` may be a source line instead."""
    match = _E_LINE.search(text or "")
    if match:
        return match.group(1).strip()
    for source in (message, text):
        if source and source.strip():
            return source.strip().splitlines()[0].strip()
    return ""


def _resolve(path: str, out_dir: Path) -> Path:
    """An attachment's file: absolute as recorded, else relative to the reports folder (how the
    merge records them) or, for older files, to the workspace (the current directory)."""
    target = Path(path)
    if target.is_absolute():
        return target
    beside, workspace = out_dir.resolve() / target, Path.cwd() / target
    if beside.exists():
        return beside
    if workspace.exists() or target.parts[:1] == (out_dir.resolve().name,):  # "reports/..."
        return workspace
    return beside


def _attachments(paths: list[str], out_dir: Path) -> str:
    """Screenshots shown, traces with the command that opens them, other files linked."""
    if not paths:
        return ""
    images, items = [], []
    for path in paths:
        href = attachment_href(path, out_dir)
        name = _e(Path(path).name or path)
        if href is None:
            items.append(f"<li>{_e(path)}</li>")
            continue
        if Path(path).suffix.lower() in _IMAGE_SUFFIXES:
            images.append(f"<a href='{_e(href)}'><img src='{_e(href)}' alt='{name}' "
                          f"loading='lazy'></a>")
        elif Path(path).name.endswith("trace.zip"):
            command = f"playwright show-trace {shlex.quote(shown_path(_resolve(path, out_dir)))}"
            items.append(f"<li><a href='{_e(href)}'>{name}</a> · open it: <code class='cmd'>"
                         f"{_e(command)}</code> <button class='copy' type='button'>copy</button>"
                         "</li>")
        else:
            items.append(f"<li><a href='{_e(href)}'>{name}</a> <span class='muted'>{_e(path)}"
                         "</span></li>")
    out = "<div class='muted'>attachments</div>"
    if images:
        out += "<div class='shots'>" + "".join(images) + "</div>"
    if items:
        out += "<ul>" + "".join(items) + "</ul>"
    return out


def _attempt(index: int, total: int, attempt: Attempt, out_dir: Path) -> str:
    label = "rerun" if index == 2 else "first attempt" if total > 1 else "result"
    status = "failed" if attempt.outcome in ("failed", "error") else attempt.outcome
    parts = [f"<div class='attempt a-{status}'><div class='ahead'><span class='dot s-{status}'>"
             f"</span><b>attempt {index}</b> ({label}): {attempt.outcome}"
             f" · {attempt.time:.2f}s"]
    headline = _headline(attempt.message, attempt.text)
    if headline:
        parts.append(f" · <span class='msg'>{_e(headline)}</span>")
    parts.append("</div>")
    for name, text in (("failure", attempt.text), ("system-out", attempt.stdout),
                       ("system-err", attempt.stderr)):
        if text and text.strip():
            parts.append(f"<div class='muted'>{name}</div><pre>{_e(_tail(text))}</pre>")
    parts.append(_attachments(attempt.attachments, out_dir))
    parts.append("</div>")
    return "".join(parts)


def _case_details(case: CaseRow, anchor: str, out_dir: Path, headline: str) -> str:
    """One failed or flaky test: a section per attempt with that attempt's own attachments."""
    label = "flaky" if case.flaky else case.outcome
    parts = [f"<details id='{anchor}'><summary><code>{_e(case.phase)}-{_e(case.suite)}</code> "
             f"<b>{_e(case.test)}</b> <span class='msg'>{label}: {_e(headline)}</span>"
             f" <span class='muted'>{case.time:.2f}s, {len(case.attempts)} "
             f"attempt{'s' if len(case.attempts) != 1 else ''}</span></summary>"]
    parts += [_attempt(i, len(case.attempts), a, out_dir)
              for i, a in enumerate(case.attempts, start=1)]
    parts.append("</details>")
    return "".join(parts)


# Ids that differ between otherwise identical failures (a watchlist's UUID, a port, an object id).
_VARYING = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
                      r"|\b0x[0-9a-f]+\b|\b(?=[0-9a-f]*\d)[0-9a-f]{12,}\b"
                      r"|(?<=:)\d{2,5}\b")


def _failure_groups(failed: list[tuple[str, CaseRow]]) -> list[tuple[str, list[tuple[str, CaseRow]]]]:
    """Failed cases grouped by headline (ids and ports aside), biggest group first, then in
    running order; each group shown under its first member's headline."""
    groups: dict[str, list[tuple[str, CaseRow]]] = {}
    shown: dict[str, str] = {}
    for anchor, case in failed:
        last = case.attempts[-1] if case.attempts else None
        headline = _headline(last.message, last.text) if last else case.outcome
        key = _VARYING.sub("#", headline)
        shown.setdefault(key, headline)
        groups.setdefault(key, []).append((anchor, case))
    ordered = sorted(groups.items(), key=lambda kv: -len(kv[1]))
    return [(shown[key], members) for key, members in ordered]


def _environment(env: dict[str, str]) -> str:
    if not env:
        return "<p class='muted'>Not recorded.</p>"
    return ("<table class='env'>" + "".join(
        f"<tr><th>{_e(k)}</th><td><code>{_e(v)}</code></td></tr>" for k, v in env.items())
        + "</table>")


SPARK_W, SPARK_H = 260, 44


def sparkline(series: list[list[float]], column: int, color: str) -> str:
    """An SVG polyline of ``series[i][column]`` against ``series[i][0]`` (seconds), scaled to
    its own range: the shape of growth, with the figures beside it."""
    if not series:
        return ""
    ts = [p[0] for p in series]
    vs = [p[column] for p in series]
    t0, tspan = ts[0], max(ts[-1] - ts[0], 1e-6)
    low, vspan = min(vs), max(max(vs) - min(vs), 1e-6)
    pad = 3

    def xy(t: float, v: float) -> str:
        x = (t - t0) / tspan * (SPARK_W - 2 * pad) + pad if len(series) > 1 else SPARK_W / 2
        y = SPARK_H - pad - (v - low) / vspan * (SPARK_H - 2 * pad)
        return f"{x:.1f},{y:.1f}"

    points = " ".join(xy(t, v) for t, v in zip(ts, vs, strict=True))
    return (f"<polyline fill='none' stroke='{color}' stroke-width='1.5' "
            f"stroke-linejoin='round' points='{points}'/>")


def _resource_chart(name: str, svc: dict[str, Any]) -> str:
    series = svc.get("series") or []
    rss, fds = svc["rss_mb"], svc["fds"]
    title = (f"{name}: RSS {rss['first']:.1f} to {rss['last']:.1f} MB (peak {rss['peak']:.1f}), "
             f"descriptors {fds['first']:.0f} to {fds['last']:.0f} (peak {fds['peak']:.0f}) over "
             f"{series[-1][0] if series else 0:.0f}s")
    return (f"<svg class='spark' width='{SPARK_W}' height='{SPARK_H}' viewBox='0 0 {SPARK_W} "
            f"{SPARK_H}' role='img' aria-label='{_e(title)}'><title>{_e(title)}</title>"
            f"<rect width='{SPARK_W}' height='{SPARK_H}' fill='#f6f8fa' rx='3'/>"
            + sparkline(series, 2, "#d4a72c") + sparkline(series, 1, "#0969da") + "</svg>")


def _resources_html(resources: dict[str, Any]) -> str:
    """Each service's peak and growth, with a chart of RSS (blue) and descriptors (amber)."""
    if not resources.get("watched"):
        return f"<p class='muted'>Not watched: {_e(resources.get('why', ''))}.</p>"
    head = (f"<p class='muted'>Sampled every {resources.get('interval', 1):g}s over "
            f"{resources.get('duration', 0):.0f}s; each figure sums the service's process tree. "
            "Growth is the last sample minus the first; across a restart (a fault test's) it "
            "compares two processes, so read it with the restarts column. Chart: "
            "<span style='color:#0969da'>RSS</span> and "
            "<span style='color:#d4a72c'>open descriptors</span>, each on its own scale.</p>"
            "<table class='res'><tr><th>service</th><th>chart</th><th class='n'>RSS peak</th>"
            "<th class='n'>RSS growth</th><th class='n'>fds peak</th><th class='n'>fds growth</th>"
            "<th class='n'>threads peak</th><th class='n'>CPU peak / mean</th>"
            "<th class='n'>procs</th><th class='n'>restarts</th></tr>")
    rows = []
    for name, svc in resources.get("services", {}).items():
        if "rss_mb" not in svc:
            rows.append(f"<tr><td>{_e(name)}</td><td colspan='9' class='muted'>not sampled "
                        f"(down for {svc.get('down_samples', 0)} samples)</td></tr>")
            continue
        rss, fds, thr, cpu = svc["rss_mb"], svc["fds"], svc["threads"], svc["cpu"]
        rows.append(
            f"<tr><td>{_e(name)}</td><td>{_resource_chart(name, svc)}</td>"
            f"<td class='n'>{rss['peak']:.1f} MB</td>"
            f"<td class='n'>{_signed(rss['growth'])} MB</td>"
            f"<td class='n'>{fds['peak']:.0f}</td><td class='n'>{_signed(fds['growth'], 0)}</td>"
            f"<td class='n'>{thr['peak']:.0f}</td>"
            f"<td class='n'>{cpu['peak']:.0f}% / {cpu['mean']:.0f}%</td>"
            f"<td class='n'>{svc.get('procs_peak', 1)}</td><td class='n'>{svc.get('restarts', 0)}</td>"
            "</tr>")
    return head + "".join(rows) + "</table>"


def _tests_table(rows: list[tuple[str | None, CaseRow]], total: int) -> str:
    counts: dict[str, int] = {}
    for _, case in rows:
        counts[case.status] = counts.get(case.status, 0) + 1
    buttons = "".join(
        f"<button type='button' data-f='{s}'{' class=on' if s == 'all' else ''}>{s} "
        f"<span class='n'>{len(rows) if s == 'all' else counts.get(s, 0)}</span></button>"
        for s in ("all", "failed", "flaky", "passed", "skipped"))
    parts = [f"<div class='filters'>{buttons}<input id='q' type='search' "
             "placeholder='search tests, phases, suites, messages' aria-label='search'>"
             " <span class='muted'><span id='shown'>" + str(len(rows)) + "</span> shown</span>"
             "</div>"]
    if total > len(rows):
        parts.append(f"<p class='muted'>{total - len(rows)} passing tests not listed (over "
                     f"{HTML_MAX_CASES} cases); every case is in junit.xml.</p>")
    parts.append("<table id='tests'><thead><tr><th>status</th><th>phase-suite</th><th>test</th>"
                 "<th class='n'>duration</th><th class='n'>attempts</th><th>headline</th></tr>"
                 "</thead><tbody>")
    for anchor, case in rows:
        status = case.status
        name = _e(case.test)
        if anchor:
            name = f"<a href='#{anchor}'>{name}</a>"
        last = case.attempts[-1] if case.attempts else None
        first = case.attempts[0] if case.attempts else None
        shown = first if status == "flaky" else last
        headline = _headline(shown.message, shown.text) if shown else ""
        # Compact rows (end tags left out, the dot drawn by CSS): 20,000 of them must stay light.
        title = f" title='{_e(headline[:500])}'" if len(headline) > 200 else ""
        parts.append(
            f"<tr data-s='{status}'><td>{status}<td class=ps>{_e(case.phase)}-{_e(case.suite)}"
            f"<td><code>{name}</code><td class=n>{case.time:.2f}s"
            f"<td class=n>{len(case.attempts) or 1}<td class=msg{title}>{_e(headline[:200])}"
            "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _listed(cases: list[CaseRow]) -> list[CaseRow]:
    """Every case, or (over ``HTML_MAX_CASES``) every case that did not simply pass, then as
    many passing ones as fit."""
    if len(cases) <= HTML_MAX_CASES:
        return cases
    other = [c for c in cases if c.status != "passed"]
    room = max(HTML_MAX_CASES - len(other), 0)
    passed = [c for c in cases if c.status == "passed"][:room]
    keep = {id(c) for c in other + passed}
    return [c for c in cases if id(c) in keep]


def _fallback_cases(result: MergeResult) -> list[CaseRow]:
    """Cases from the failure records when the merge gave none (an older caller)."""
    rows = []
    for rec in result.failures + [f for f in result.flaky if f not in result.failures]:
        attempt = Attempt(rec.outcome if not rec.flaky else "failed", rec.message, rec.text,
                          rec.stdout, rec.stderr, list(rec.attachments), rec.time)
        rows.append(CaseRow(rec.phase, rec.suite, rec.classname, rec.name, rec.time,
                            rec.outcome, rec.flaky, [attempt]))
    return rows


def render_html(result: MergeResult, out_dir: Path) -> str:
    verdict = result.verdict
    started = f"started {iso_utc(result.started)} UTC · " if result.started is not None else ""
    cases = result.cases or _fallback_cases(result)
    listed = _listed(cases)
    anchors: dict[int, str] = {}
    for index, case in enumerate(c for c in cases if c.status in ("failed", "flaky")):
        anchors[id(case)] = f"case-{index + 1}"
    failed = [(anchors[id(c)], c) for c in cases if c.status == "failed"]
    flaky = [(anchors[id(c)], c) for c in cases if c.status == "flaky"]
    body = [
        f"<header><h1>E2E report <span class='verdict {verdict}'>{verdict.upper()}</span>"
        f"{' <span class=muted>(strict)</span>' if result.strict else ''}</h1>",
        f"<p class='line'>{_e(summary_line(result))}</p>",
        f"<p class='muted'>{started}<a href='junit.xml'>junit.xml</a> · "
        "<a href='summary.json'>summary.json</a> · <a href='summary.md'>summary.md</a> · "
        "<a href='#tests-section'>tests</a> · <a href='#failures'>failures</a> · "
        "<a href='#resources'>resources</a> · <a href='#environment'>environment</a></p></header>",
    ]
    if result.warnings:
        body.append("<section id='warnings'><h2>Warnings</h2><ul class='warn'>"
                    + "".join(f"<li>{_e(w)}</li>" for w in result.warnings) + "</ul></section>")
    body.append(f"<section id='timeline'><h2>Timeline</h2>{_timeline(result)}</section>")
    body.append(f"<section id='suites'><h2>Phases and suites</h2>{_suites_table(result)}"
                "</section>")
    groups = _failure_groups(failed)
    body.append(f"<section id='failures'><h2>Failures ({len(failed)}"
                f"{f', {len(groups)} distinct' if len(groups) != len(failed) else ''})</h2>")
    if failed:
        shown = 0
        for headline, members in groups:
            if shown >= HTML_MAX_FAILURES:
                break
            if len(members) > 1:
                body.append(f"<div class='group'><div class='ghead'><span class='count'>"
                            f"{len(members)}×</span> <span class='msg'>{_e(headline)}</span></div>")
            for anchor, case in members[: max(HTML_MAX_FAILURES - shown, 0)]:
                body.append(_case_details(case, anchor, out_dir, headline))
                shown += 1
            if len(members) > 1:
                body.append("</div>")
        if len(failed) > HTML_MAX_FAILURES:
            body.append(f"<p class='muted'>… and {len(failed) - HTML_MAX_FAILURES} more"
                        " in summary.json and junit.xml</p>")
    else:
        body.append("<p class='muted'>None.</p>")
    body.append("</section>")
    verb = "counted as failed (strict)" if result.strict else "passed on their rerun"
    body.append(f"<section id='flaky'><h2>Flaky ({len(flaky)})</h2>")
    if flaky:
        body.append(f"<p class='muted'>Failed once, {verb}.</p>")
        for anchor, case in flaky[:HTML_MAX_FAILURES]:
            first = case.attempts[0] if case.attempts else None
            headline = _headline(first.message, first.text) if first else ""
            body.append(_case_details(case, anchor, out_dir, headline))
    else:
        body.append("<p class='muted'>None.</p>")
    body.append("</section>")
    body.append(f"<section id='tests-section'><h2>Tests ({len(cases)})</h2>"
                f"{_tests_table([(anchors.get(id(c)), c) for c in listed], len(cases))}</section>")
    body.append(f"<section id='slowest'><h2>Slowest {len(result.slowest)}</h2><table><tr>"
                "<th class='n'>time</th><th>phase-suite</th><th>test</th></tr>")
    body += [f"<tr><td class='n'>{s.time:.2f}s</td><td>{_e(s.phase)}-{_e(s.suite)}</td>"
             f"<td><code>{_e(s.test)}</code></td></tr>" for s in result.slowest]
    body.append("</table></section>")
    if result.resources is not None:
        body.append(f"<section id='resources'><h2>Resources</h2>{_resources_html(result.resources)}"
                    "</section>")
    body.append(f"<section id='environment'><h2>Environment</h2>"
                f"{_environment(result.environment)}</section>")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>E2E report: {verdict}</title><style>{_CSS}</style></head><body><main>"
        + "\n".join(body)
        + f"</main><script>{_SCRIPT}</script></body></html>\n"
    )


# Filter by status, search, copy a trace command; nothing is fetched.
_SCRIPT = """
(function(){var q=document.getElementById('q');if(!q)return;
var rows=[].slice.call(document.querySelectorAll('#tests tbody tr'));var f='all';
var btns=[].slice.call(document.querySelectorAll('.filters button'));
function apply(){var t=q.value.trim().toLowerCase(),n=0;rows.forEach(function(r){
var ok=(f==='all'||r.dataset.s===f)&&(!t||r.textContent.toLowerCase().indexOf(t)>=0);
r.hidden=!ok;if(ok)n++;});document.getElementById('shown').textContent=n;
location.replace('#'+(f==='all'&&!t?'':'f='+f+(t?'&q='+encodeURIComponent(t):'')));}
btns.forEach(function(b){b.addEventListener('click',function(){f=b.dataset.f;
btns.forEach(function(o){o.classList.toggle('on',o===b);});apply();});});
q.addEventListener('input',apply);
var m=/f=(\\w+)(?:&q=([^&]*))?/.exec(location.hash);if(m){f=m[1];q.value=decodeURIComponent(m[2]||'');
btns.forEach(function(o){o.classList.toggle('on',o.dataset.f===f);});apply();}
document.addEventListener('click',function(e){var b=e.target.closest('button.copy');if(!b)return;
var c=b.previousElementSibling.textContent;if(navigator.clipboard)navigator.clipboard.writeText(c);
b.textContent='copied';});
var h=location.hash.slice(1);if(/^case-/.test(h)){var d=document.getElementById(h);if(d)d.open=true;}
window.addEventListener('hashchange',function(){var d=document.getElementById(location.hash.slice(1));
if(d&&d.tagName==='DETAILS')d.open=true;});})();
"""
