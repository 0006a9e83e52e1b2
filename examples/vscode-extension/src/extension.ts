// VS Code glue: the waiting-room chat in a sidebar, "Host a pairing session" in an integrated
// terminal with the invite link, and the session timer on the status bar. Everything that is
// not glue lives in chat.ts, timer.ts, invite.ts and webview.ts, which are tested.
import * as vscode from 'vscode';
import { connect, host, Host, RouletteError, Session } from 'roulette-node';
import * as chat from './chat';
import * as timer from './timer';
import { agentCommand, inviteLink } from './invite';
import { chatPage, nonce } from './webview';

function server(): string {
  return vscode.workspace.getConfiguration('roulette').get<string>('server', 'http://127.0.0.1:7878');
}

class ChatView implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private session: Session | undefined;
  private state = chat.empty();

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = { enableScripts: true };
    view.webview.html = chatPage(nonce(), view.webview.cspSource);
    view.webview.onDidReceiveMessage((m: { type: string; text: string }) => {
      if (m.type === 'say') void this.say(m.text);
    });
    view.onDidDispose(() => this.session?.close());
    void this.start();
  }

  private render(): void {
    const s = this.state;
    const status = s.partner ? `you: ${s.me} · with ${s.partner}` : `you: ${s.me || '...'} · looking for someone`;
    void this.view?.webview.postMessage({ status, lines: s.lines });
  }

  private async start(): Promise<void> {
    try {
      this.session = await connect(server(), { chat: true });
      for await (const event of this.session.events()) {
        const [next, todo] = chat.applyEvent(this.state, event);
        this.state = next;
        this.render();
        if (todo === 'search') await this.session.findPartner('chat');
      }
    } catch (e) {
      const message = e instanceof RouletteError ? `${e.code}: ${e.message}` : String(e);
      void vscode.window.showErrorMessage(`Roulette chat: ${message}`);
    }
  }

  private async say(text: string): Promise<void> {
    const action = chat.submit(this.state, text);
    if (action.kind === 'send') await this.session?.send(action.message);
    else if (action.note) {
      this.state = { ...this.state, lines: [...this.state.lines, { who: 'system', name: '', text: action.note }] };
      this.render();
    }
  }
}

async function hostSession(context: vscode.ExtensionContext, bar: vscode.StatusBarItem): Promise<void> {
  let token = await context.secrets.get('roulette.hostToken');
  if (!token) {
    token = await vscode.window.showInputBox({
      prompt: 'Your Roulette host token (from the web page\'s Host button, or `roulette token`)',
      password: true,
      ignoreFocusOut: true,
    });
    if (!token) return;
    await context.secrets.store('roulette.hostToken', token);
  }
  const command = agentCommand(vscode.workspace.getConfiguration('roulette').get<string>('agentCommand', 'claude'));
  let agent: Host;
  try {
    agent = await host(server(), token, command, { invite: true, once: true, output: true });
  } catch (e) {
    void vscode.window.showErrorMessage(`Roulette: ${e instanceof RouletteError ? e.message : String(e)}`);
    return;
  }
  const write = new vscode.EventEmitter<string>();
  const close = new vscode.EventEmitter<void>();
  const pty: vscode.Pseudoterminal = {
    onDidWrite: write.event,
    onDidClose: close.event,
    open: () => write.fire('Roulette: starting the host agent...\r\n'),
    close: () => agent.stop(),
    handleInput: (data) => void agent.keys(data),
  };
  const terminal = vscode.window.createTerminal({ name: 'Roulette host', pty });
  terminal.show();
  let state = timer.idle();
  const tick = setInterval(() => {
    const text = timer.label(state, Date.now());
    if (text) {
      bar.text = text;
      bar.show();
    }
  }, 1000);
  context.subscriptions.push({ dispose: () => clearInterval(tick) });
  for await (const event of agent.events()) {
    state = timer.applyEvent(state, event, Date.now());
    if (event.type === 'output') write.fire((event.data as Buffer).toString('utf8'));
    if (event.type === 'host' && event.status === 'invite') {
      const link = inviteLink(server(), String(event.detail));
      const pick = await vscode.window.showInformationMessage(`Invite link: ${link}`, 'Copy');
      if (pick === 'Copy') await vscode.env.clipboard.writeText(link);
    }
    if (event.type === 'host' && event.status !== 'invite') write.fire(`\r\n[roulette] ${event.status} ${event.detail}\r\n`);
  }
  clearInterval(tick);
  close.fire();
}

export function activate(context: vscode.ExtensionContext): void {
  const bar = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 100);
  context.subscriptions.push(bar);
  context.subscriptions.push(vscode.window.registerWebviewViewProvider('roulette.chat', new ChatView()));
  context.subscriptions.push(
    vscode.commands.registerCommand('roulette.host', () => hostSession(context, bar)),
  );
}

export function deactivate(): void {}
