/** The auditor page (served by the console at /auditor); its script is /auditor.js (see ../Bundle.ts). */
export const auditorPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Brand.Me · audit log verifier</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1d232a; }
  h1 { font-size: 1.4rem; margin-bottom: .2rem; }
  p.lead { color: #55606b; margin-top: 0; }
  form { display: grid; grid-template-columns: 11rem 1fr; gap: .5rem .8rem; align-items: center; margin: 1.2rem 0; }
  input { font: inherit; padding: .35rem .5rem; border: 1px solid #b8c0c8; border-radius: 4px; }
  button { grid-column: 2; justify-self: start; font: inherit; padding: .4rem 1.2rem; border: 0; border-radius: 4px;
    background: #1f5fbf; color: #fff; cursor: pointer; }
  #status { font-size: 1.6rem; font-weight: 700; margin: 1rem 0 .4rem; }
  #status.ok { color: #177a3c; }
  #status.failed { color: #b3261e; }
  #checks { list-style: none; padding: 0; font-family: ui-monospace, monospace; font-size: .85rem; }
  #checks li { padding: .25rem .5rem; margin: .2rem 0; border-radius: 4px; overflow-wrap: anywhere; }
  #checks li.ok { background: #e7f5ec; }
  #checks li.failed { background: #fbe9e7; }
</style>
</head>
<body>
<h1>Audit log verifier</h1>
<p class="lead">Fetches the signed checkpoint, an entry with its inclusion proof and a consistency proof, and verifies
them in this browser (RFC 9162, with the same verification module the CLI and the services use).</p>
<form id="audit">
  <label for="token">Auditor token</label><input id="token" name="token" type="password" autocomplete="off" placeholder="bearer token of an auditor session">
  <label for="index">Entry index</label><input id="index" name="index" type="number" min="0" value="0">
  <label for="from">Consistency from size</label><input id="from" name="from" type="number" min="1" placeholder="half the checkpoint size">
  <label for="verifier">Verifier key (optional)</label><input id="verifier" name="verifier" placeholder="origin+keyid+base64 — checks the checkpoint signature">
  <button type="submit" id="verify">Verify</button>
</form>
<div id="status">loading…</div>
<ul id="checks"></ul>
<script type="module" src="/auditor.js"></script>
</body>
</html>
`
