// The page's few DOM helpers: an element of index.html by id (a missing one is a bug, said at once),
// and a new element with a class and a text.

export function byId<T extends HTMLElement = HTMLElement>(id: string, kind?: { new (): T }): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`index.html has no #${id}`);
  if (kind && !(node instanceof kind)) throw new Error(`#${id} is not a ${kind.name}`);
  return node as T;
}

export function el(tag: string, cls?: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
