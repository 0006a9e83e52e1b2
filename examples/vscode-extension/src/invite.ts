// Invite links and the host agent's terminal name.

/** The link a partner opens to join the host's session. */
export function inviteLink(server: string, code: string): string {
  const base = server.replace(/\/+$/, '');
  return `${base}/invite/${encodeURIComponent(code)}`;
}

/** The command the host agent runs: the configured one, split into words, or `claude`. */
export function agentCommand(configured: string): string[] {
  const words = configured.trim().split(/\s+/).filter((w) => w.length > 0);
  return words.length > 0 ? words : ['claude'];
}
