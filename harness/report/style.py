"""The report's stylesheet (inline: the policy allows inline styles and nothing fetched)."""

CSS = """
:root{--pass:#1a7f37;--pass-bg:#dafbe1;--fail:#cf222e;--fail-bg:#ffebe9;--err:#8250df;
--err-bg:#fbefff;--skip:#6e7781;--skip-bg:#eaeef2;--mixed:#9a6700;--mixed-bg:#fff8c5;
--line:#d0d7de;--muted:#57606a;--bg:#f6f8fa;--ink:#1f2328;--accent:#0969da}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);
background:var(--bg)}
main{max-width:1320px;margin:0 auto;padding:0 20px 60px}
header.top{background:#fff;border-bottom:1px solid var(--line);padding:16px 20px 10px}
header.top .in{max-width:1320px;margin:0 auto}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0 0 10px}h3{font-size:15px;margin:0}
nav.toc{display:flex;gap:14px;flex-wrap:wrap;margin-top:8px}
nav.toc a,a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
section.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 18px;
margin-top:18px}
.muted,.note{color:var(--muted)}.note{font-style:italic}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.gate{border-radius:8px;padding:12px 16px;margin-top:18px;border:1px solid}
.gate.ok{background:var(--pass-bg);border-color:#4ac26b}.gate.bad{background:var(--fail-bg);
border-color:#ff8182}.gate.none{background:#fff;border-color:var(--line)}
.gate b{font-size:16px}.gate ul{margin:6px 0 0;padding-left:20px}
.tw{overflow-x:auto}
table.models{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
table.models th,table.models td{padding:6px 8px;border-bottom:1px solid var(--line);
text-align:right;white-space:nowrap}
table.models th:first-child,table.models td:first-child{text-align:left}
table.models thead th{font-size:12px;color:var(--muted);font-weight:600}
.ver{display:block;font-size:11.5px;color:var(--muted)}
.cibar{position:relative;display:inline-block;width:110px;height:10px;background:var(--skip-bg);
border-radius:5px;vertical-align:middle;margin-left:8px}
.cibar i{position:absolute;top:0;bottom:0;background:#80ccff;border-radius:5px}
.cibar b{position:absolute;top:-2px;width:3px;height:14px;background:var(--accent)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:14px}
figure{margin:0}figcaption{font-size:12px;color:var(--muted);margin-bottom:4px}
svg.chart{max-width:100%;height:auto;font:12px system-ui,sans-serif}
svg .grid{stroke:#eaeef2}svg .zero{stroke:#8c959f;stroke-dasharray:3 3}
svg .tick{fill:var(--muted);font-size:11px}svg .label{fill:var(--ink)}
svg .value{fill:var(--ink);font-size:11.5px}svg .muted{fill:var(--muted)}
svg .bar{fill:#b6e3ff}svg .whisker{stroke:#0550ae;stroke-width:2}svg .dot{fill:#0550ae}
svg .version{font-size:10.5px}
.cmps{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:14px;
margin-top:12px}
.cmp{border:1px solid var(--line);border-left:5px solid var(--skip);border-radius:6px;
padding:12px 14px}
.cmp.REGRESSED{border-left-color:var(--fail)}.cmp.IMPROVED{border-left-color:var(--pass)}
.verdict{font-size:12px;font-weight:700;padding:2px 8px;border-radius:10px;margin-left:6px;
background:var(--skip-bg)}
.REGRESSED .verdict{background:var(--fail-bg);color:var(--fail)}
.IMPROVED .verdict{background:var(--pass-bg);color:var(--pass)}
.big{font-size:20px;margin:8px 0 2px;font-variant-numeric:tabular-nums}
.big span{font-size:14px;color:var(--muted)}
.counts{display:flex;gap:6px;flex-wrap:wrap;margin:8px 0}
.counts span{background:var(--bg);border:1px solid var(--line);border-radius:12px;
padding:1px 9px;font-size:12.5px}
ul.cases{columns:2;margin:4px 0 8px;padding-left:18px;font-size:13px}
details>summary{cursor:pointer}
.legend{color:var(--muted);font-size:12.5px}
.sw{display:inline-block;min-width:26px;text-align:center;border-radius:4px;padding:0 3px}
.filters{margin:6px 0 8px}.filters input{margin-left:12px}
.filters label{cursor:pointer;font-size:13px}
#mf-bad:checked~.mwrap tr.clean,#mf-diff:checked~.mwrap tr.same{display:none}
.mwrap{max-height:78vh;overflow:auto;border:1px solid var(--line);border-radius:6px}
table.matrix{border-collapse:separate;border-spacing:0;font-variant-numeric:tabular-nums}
table.matrix th,table.matrix td{border-bottom:1px solid #eaeef2;border-right:1px solid #eaeef2;
padding:0}
table.matrix thead th{position:sticky;top:0;z-index:2;background:#fff;padding:6px 10px;
font-size:12px;max-width:180px;vertical-align:bottom;border-bottom:1px solid var(--line)}
.mname{display:block;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.sub{display:block;color:var(--muted);font-weight:400}
.tag{font-size:10px;background:var(--skip-bg);border-radius:8px;padding:0 6px;font-weight:400}
table.matrix tbody th{position:sticky;left:0;z-index:1;background:#fff;text-align:left;
padding:3px 10px;font-weight:400;max-width:340px;overflow:hidden;text-overflow:ellipsis;
white-space:nowrap}
table.matrix thead th.corner{left:0;z-index:3;text-align:left}
table.matrix tr{scroll-margin-top:60px}
.suite{color:var(--muted);font-size:11px;margin-left:6px}
table.matrix td a{display:block;min-width:64px;padding:3px 8px;text-align:center;color:inherit;
text-decoration:none;font-weight:600}
table.matrix td a:hover{outline:2px solid var(--accent);outline-offset:-2px}
.v-pass{background:var(--pass-bg);color:var(--pass)}.v-fail{background:var(--fail-bg);
color:var(--fail)}.v-error{background:var(--err-bg);color:var(--err)}
.v-skipped{background:var(--skip-bg);color:var(--skip)}.v-mixed{background:var(--mixed-bg);
color:var(--mixed)}.v-none{background:repeating-linear-gradient(45deg,#fff 0 4px,#f6f8fa 4px 8px)}
.mk{font-style:normal;margin-left:4px;font-size:11px}
.tx{display:none}
.tx:target{display:block;position:fixed;inset:0;z-index:20;background:rgba(31,35,40,.45);
overflow:auto;padding:3vh 3vw}
.panel{position:relative;background:#fff;border-radius:10px;max-width:1100px;margin:0 auto;
padding:18px 22px 24px;box-shadow:0 8px 30px rgba(0,0,0,.25)}
.panel h2 small{color:var(--muted);font-weight:400;margin-left:8px}
.close{position:absolute;right:14px;top:8px;font-size:28px;color:var(--muted)}
.tabs{display:flex;gap:6px;flex-wrap:wrap;margin:4px 0 8px}
.tabs a{border:1px solid var(--line);border-radius:14px;padding:1px 10px;font-size:12.5px}
.tabs a.cur{background:var(--accent);color:#fff;border-color:var(--accent)}
.meta{color:var(--muted);font-size:12.5px;margin:2px 0;overflow-wrap:anywhere}
.where::after{content:" (the prompt is in the eval file at this location; records do not \
keep it)"}
details.sample{border:1px solid var(--line);border-radius:8px;margin:10px 0;padding:6px 12px}
details.sample>summary{font-weight:600;padding:2px 0}
.badge{display:inline-block;font-size:11px;font-weight:700;padding:1px 7px;border-radius:9px;
letter-spacing:.02em}
.badge.v-pass,.badge.o-ok{background:var(--pass);color:#fff}
.badge.v-fail,.badge.o-failed{background:var(--fail);color:#fff}
.badge.v-error{background:var(--err);color:#fff}.badge.v-skipped,.badge.o-other{
background:var(--skip);color:#fff}.badge.o-deadline{background:#bc4c00;color:#fff}
.st{margin:8px 0}.sh{font-size:11.5px;color:var(--muted);text-transform:uppercase;
letter-spacing:.04em;margin-bottom:2px}
pre{margin:0;padding:8px 10px;border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere;
font:12.5px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;max-height:480px;
overflow:auto}
pre.prose{font:13.5px/1.5 system-ui,sans-serif;background:none;padding:2px 0}
pre.src{background:#0d1117;color:#e6edf3}pre.out{background:var(--bg);border:1px solid var(--line)}
.thought{color:var(--muted)}.thought pre{color:var(--muted)}
.answer{border:1px solid #54aeff;background:#ddf4ff;border-radius:8px;padding:8px 12px;
margin-top:10px}
.err{border:1px solid #c297ff;background:var(--err-bg);border-radius:8px;padding:8px 12px;
margin:8px 0}
div.checks{margin:6px 0 10px}
.chip{display:inline-block;font-size:12px;color:var(--pass);background:var(--pass-bg);
border-radius:10px;padding:0 8px;margin:0 4px 2px 0}
table.checks{border-collapse:collapse;margin-top:4px;font-size:13px;width:100%}
table.checks td{border-top:1px solid #ffcecb;padding:4px 8px;vertical-align:top;
background:var(--fail-bg)}
table.checks td:first-child{color:var(--fail);width:18px}
table.checks td:nth-child(2){width:1%;white-space:nowrap}
.k{display:inline-block;min-width:64px;color:var(--muted);font-size:12px}
.small{font-size:12px;margin:6px 0}
.cut{display:block;color:var(--mixed);font-style:italic;font-size:12px;margin-top:2px}
figure.image img{max-width:100%;max-height:520px;border:1px solid var(--line);border-radius:6px;
background:#fff}
dl.methods dt{font-weight:600;margin-top:6px}dl.methods dd{margin:0 0 0 12px;color:var(--muted)}
"""
