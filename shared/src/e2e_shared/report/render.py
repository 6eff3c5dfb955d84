"""Write a merge's outputs: junit.xml, summary.json, summary.md and a self-contained index.html."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from urllib.parse import quote

from junitparser import JUnitXml

from .model import CaseRecord, MergeResult, SuiteRow, iso_utc, summary_line

MD_MAX_FAILURES = 50  # GitHub caps a step summary at 1 MiB
HTML_MAX_FAILURES = 200
BUNDLE_MAX_CHARS = 20_000  # per block of a failure bundle; the tail is kept (log tails matter)
STATUS_MARK = {"passed": "✅", "failed": "❌", "skipped": "⏭️", "flaky": "⚠️", "empty": "∅"}


def write_outputs(
    result: MergeResult, root: JUnitXml, out_dir: Path, step_summary: Path | None = None
) -> None:
    """Write the four reports into ``out_dir`` and record their paths in ``result.outputs``."""
    out_dir.mkdir(parents=True, exist_ok=True)
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
    if result.warnings:
        out += ["### Warnings", ""] + [f"- {_md(w, 400)}" for w in result.warnings] + [""]
    return "\n".join(out) + "\n"


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
    target = Path(path)
    if not target.is_absolute():
        target = out_dir.resolve() / target
    rel = os.path.relpath(target, out_dir.resolve())
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


def _bundle(case: CaseRecord, out_dir: Path) -> str:
    parts = [
        f"<details><summary><code>{_e(case.phase)}-{_e(case.suite)}</code> "
        f"<b>{_e(case.test)}</b> <span class='msg'>{'flaky' if case.flaky else case.outcome}: "
        f"{_e(case.message.strip().splitlines()[0] if case.message.strip() else '')}</span>"
        f"</summary>"
    ]
    for label, text in (("failure", case.text), ("system-out", case.stdout),
                        ("system-err", case.stderr)):
        if text and text.strip():
            parts.append(f"<div class='muted'>{label}</div><pre>{_e(_tail(text))}</pre>")
    if case.attachments:
        links = []
        for path in case.attachments:
            href = attachment_href(path, out_dir)
            name = _e(Path(path).name or path)
            links.append(f"<li><a href='{_e(href)}'>{name}</a> <span class='muted'>{_e(path)}"
                         "</span></li>" if href else f"<li>{_e(path)}</li>")
        parts.append("<div class='muted'>attachments</div><ul>" + "".join(links) + "</ul>")
    parts.append("</details>")
    return "".join(parts)


def render_html(result: MergeResult, out_dir: Path) -> str:
    verdict = result.verdict
    started = f"started {iso_utc(result.started)} UTC · " if result.started is not None else ""
    body = [
        f"<header><h1>E2E report <span class='verdict {verdict}'>{verdict.upper()}</span>"
        f"{' <span class=muted>(strict)</span>' if result.strict else ''}</h1>",
        f"<p class='line'>{_e(summary_line(result))}</p>",
        f"<p class='muted'>{started}<a href='junit.xml'>junit.xml</a> · "
        "<a href='summary.json'>summary.json</a> · <a href='summary.md'>summary.md</a></p>"
        "</header>",
    ]
    if result.warnings:
        body.append("<section id='warnings'><h2>Warnings</h2><ul class='warn'>"
                    + "".join(f"<li>{_e(w)}</li>" for w in result.warnings) + "</ul></section>")
    body.append(f"<section id='timeline'><h2>Timeline</h2>{_timeline(result)}</section>")
    body.append(f"<section id='suites'><h2>Phases and suites</h2>{_suites_table(result)}"
                "</section>")
    body.append(f"<section id='failures'><h2>Failures ({len(result.failures)})</h2>")
    if result.failures:
        body += [_bundle(case, out_dir) for case in result.failures[:HTML_MAX_FAILURES]]
        if len(result.failures) > HTML_MAX_FAILURES:
            body.append(f"<p class='muted'>… and {len(result.failures) - HTML_MAX_FAILURES} more"
                        " in summary.json and junit.xml</p>")
    else:
        body.append("<p class='muted'>None.</p>")
    body.append("</section>")
    verb = "counted as failed (strict)" if result.strict else "passed on their rerun"
    body.append(f"<section id='flaky'><h2>Flaky ({len(result.flaky)})</h2>")
    if result.flaky:
        body.append(f"<p class='muted'>Failed once, {verb}.</p>")
        body += [_bundle(case, out_dir) for case in result.flaky[:HTML_MAX_FAILURES]]
    else:
        body.append("<p class='muted'>None.</p>")
    body.append("</section>")
    body.append(f"<section id='slowest'><h2>Slowest {len(result.slowest)}</h2><table><tr>"
                "<th class='n'>time</th><th>phase-suite</th><th>test</th></tr>")
    body += [f"<tr><td class='n'>{s.time:.2f}s</td><td>{_e(s.phase)}-{_e(s.suite)}</td>"
             f"<td><code>{_e(s.test)}</code></td></tr>" for s in result.slowest]
    body.append("</table></section>")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>E2E report: {verdict}</title><style>{_CSS}</style></head><body><main>"
        + "\n".join(body)
        + "</main></body></html>\n"
    )
