/** The console app's HTML shell and styles (served by ../Http.ts at / and /app.css; the script is /app.js). */
export const appPage = (
  etag: string,
  grafana: ReadonlyArray<{ readonly title: string; readonly url: string }>
) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Brand.Me console</title>
<meta name="brandme-grafana" content="${JSON.stringify(grafana).replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;")}">
<link rel="stylesheet" href="/app.css">
</head>
<body>
<div id="root"><p class="boot">Loading the console…</p></div>
<script type="module" src="/app.js?v=${encodeURIComponent(etag.replaceAll('"', ""))}"></script>
</body>
</html>
`

export const appStyles = `
:root { --ink: #17202a; --muted: #5b6773; --line: #dfe3e8; --bg: #f5f6f8; --card: #fff; --brand: #1f4fbf;
  --brand-ink: #fff; --ok: #13753a; --ok-bg: #e6f4ea; --bad: #b3261e; --bad-bg: #fbe9e7; --warn: #8a5a00;
  --warn-bg: #fff4d6; --focus: #ffb000; color-scheme: light; }
* { box-sizing: border-box; }
html, body { margin: 0; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--brand); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.boot { padding: 2rem; }
.skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; }
.shell { display: grid; grid-template-columns: 15rem minmax(0, 1fr); min-height: 100vh; }
.side { background: #111b2e; color: #dfe6f3; padding: 1.2rem 0; display: flex; flex-direction: column; gap: 1rem; }
.logo { font-weight: 800; font-size: 1.15rem; padding: 0 1.2rem; color: #fff; letter-spacing: .02em; }
.logo small { display: block; font-weight: 500; font-size: .75rem; color: #9fb0cc; letter-spacing: 0; }
.nav { display: flex; flex-direction: column; }
.nav a { color: #dfe6f3; text-decoration: none; padding: .5rem 1.2rem; border-left: 3px solid transparent; }
.nav a:hover { background: #1b2842; }
.nav a[aria-current="page"] { background: #1f2f50; border-left-color: #6ea0ff; color: #fff; font-weight: 600; }
.who { margin-top: auto; padding: 0 1.2rem; font-size: .85rem; color: #b9c5da; overflow-wrap: anywhere; }
.who button { margin-top: .5rem; }
main { padding: 1.5rem 2rem 3rem; min-width: 0; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 0 0 .75rem; }
.lead { color: var(--muted); margin: 0 0 1.25rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1.1rem 1.2rem;
  margin-bottom: 1.1rem; min-width: 0; }
.grid2 { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 1.1rem; }
.row { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; }
.row > * { min-width: 0; }
label { display: flex; flex-direction: column; gap: .2rem; font-size: .85rem; color: var(--muted); font-weight: 600; }
input, select, textarea { font: inherit; color: var(--ink); padding: .45rem .6rem; border: 1px solid #b9c2cc;
  border-radius: 6px; background: #fff; max-width: 100%; }
textarea { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; width: 100%; }
button { font: inherit; padding: .45rem 1rem; border-radius: 6px; border: 1px solid var(--brand); background: var(--brand);
  color: var(--brand-ink); cursor: pointer; font-weight: 600; }
button.secondary { background: #fff; color: var(--brand); }
button.danger { background: var(--bad); border-color: var(--bad); }
button:disabled { opacity: .55; cursor: default; }
.table { width: 100%; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .5rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
caption { text-align: left; caption-side: top; color: var(--muted); font-size: .85rem; padding-bottom: .3rem; }
th { font-size: .78rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
td.mono, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .82rem; overflow-wrap: anywhere; }
.alert { border-radius: 8px; padding: .6rem .8rem; margin: .6rem 0; }
.alert.error { background: var(--bad-bg); color: var(--bad); border: 1px solid #f3c1bb; }
.alert.ok { background: var(--ok-bg); color: var(--ok); border: 1px solid #b8e0c4; }
.muted { color: var(--muted); }
.empty { color: var(--muted); padding: 1rem 0; font-style: italic; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .78rem; font-weight: 600;
  background: #e8edf6; color: #23395d; }
.badge.ok { background: var(--ok-bg); color: var(--ok); }
.badge.bad { background: var(--bad-bg); color: var(--bad); }
.badge.warn { background: var(--warn-bg); color: var(--warn); }
.checks { list-style: none; padding: 0; margin: .5rem 0; }
.checks li { padding: .4rem .6rem; border-radius: 6px; margin: .3rem 0; overflow-wrap: anywhere; }
.checks li.ok { background: var(--ok-bg); }
.checks li.failed { background: var(--bad-bg); }
.verdict { font-size: 1.4rem; font-weight: 800; }
.verdict.ok { color: var(--ok); }
.verdict.failed { color: var(--bad); }
.stats { display: flex; flex-wrap: wrap; gap: .8rem; margin-bottom: .8rem; }
.stat { background: #f1f4f9; border-radius: 8px; padding: .5rem .8rem; min-width: 7rem; }
.stat b { display: block; font-size: 1.3rem; }
.chart { width: 100%; height: auto; display: block; }
.legend { display: flex; flex-wrap: wrap; gap: .3rem .9rem; font-size: .82rem; margin-top: .4rem; }
.qr { background: #fff; padding: .5rem; border: 1px solid var(--line); border-radius: 8px; width: 12rem; max-width: 100%; }
.pager { display: flex; gap: .6rem; align-items: center; margin-top: .8rem; }
.signin { max-width: 26rem; margin: 8vh auto; padding: 0 1rem; }
.signin h1 { font-size: 1.8rem; }
.signin form { display: flex; flex-direction: column; gap: .8rem; }
.demo { font-size: .82rem; color: var(--muted); }
.topbar { display: none; }
@media (max-width: 760px) {
  .shell { grid-template-columns: minmax(0, 1fr); }
  .side { padding: .6rem 0; gap: .4rem; }
  .nav { flex-direction: row; flex-wrap: wrap; padding: 0 .6rem; gap: .2rem; }
  .nav a { border-left: 0; border-radius: 6px; padding: .35rem .6rem; font-size: .9rem; }
  .who { margin-top: .2rem; display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
  .who button { margin-top: 0; }
  main { padding: 1rem .8rem 2rem; }
  .grid2 { grid-template-columns: minmax(0, 1fr); }
  th, td { padding: .4rem .4rem; }
}
@media print { .side, .noprint { display: none; } .shell { display: block; } }
`
