// Small DOM helpers. Text from anyone else only ever goes in through `textContent`.

export function byTestId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.querySelector<T>(`[data-testid="${id}"]`);
  if (!el) throw new Error(`missing element ${id}`);
  return el;
}

export function show(el: HTMLElement, visible: boolean): void {
  el.hidden = !visible;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { text?: string; className?: string; testid?: string; label?: string } = {},
  children: HTMLElement[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.text !== undefined) node.textContent = props.text;
  if (props.className) node.className = props.className;
  if (props.testid) node.dataset.testid = props.testid;
  if (props.label) node.setAttribute('aria-label', props.label);
  for (const child of children) node.appendChild(child);
  return node;
}

export function button(text: string, testid: string, onClick: () => void, secondary = false): HTMLButtonElement {
  const b = el('button', { text, testid, className: secondary ? 'secondary' : '' });
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

export function clock(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${s.toString().padStart(2, '0')}`;
}
