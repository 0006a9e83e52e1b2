// The sidebar's page: static HTML with a strict CSP; every line is put in with textContent by
// the page's script, so nothing a stranger types is ever parsed as HTML.

export function chatPage(nonce: string, cspSource: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style nonce="${nonce}">
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 8px; }
  #status { opacity: 0.8; margin: 6px 0; }
  #lines { list-style: none; padding: 0; margin: 0; }
  #lines li { margin: 2px 0; white-space: pre-wrap; overflow-wrap: anywhere; }
  .system { opacity: 0.7; font-style: italic; }
  .name { font-weight: bold; margin-right: 4px; }
  #say { width: 100%; box-sizing: border-box; margin-top: 8px; }
</style>
</head>
<body>
<div id="status" role="status">connecting...</div>
<ul id="lines" aria-live="polite"></ul>
<input id="say" aria-label="Message (Enter to send; /skip /report /insights)" placeholder="Say something (/skip, /report, /insights)" maxlength="500">
<script nonce="${nonce}">
  const vscode = acquireVsCodeApi();
  const lines = document.getElementById('lines');
  const status = document.getElementById('status');
  const say = document.getElementById('say');
  say.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && say.value.trim()) {
      vscode.postMessage({ type: 'say', text: say.value });
      say.value = '';
    }
  });
  window.addEventListener('message', (e) => {
    const state = e.data;
    status.textContent = state.status;
    lines.replaceChildren(...state.lines.map((l) => {
      const li = document.createElement('li');
      li.className = l.who;
      if (l.name) {
        const n = document.createElement('span');
        n.className = 'name';
        n.textContent = l.name + ':';
        li.append(n);
      }
      li.append(document.createTextNode(l.text));
      return li;
    }));
  });
</script>
</body>
</html>`;
}

/** A nonce for the page's CSP. */
export function nonce(random: () => number = Math.random): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < 32; i++) out += chars[Math.floor(random() * chars.length)];
  return out;
}
