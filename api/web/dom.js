// Small DOM helpers. Text always goes in as text nodes (never as HTML), so
// whatever an oracle, a peer or a config says cannot become markup; styles
// come from classes only (the page's CSP forbids style attributes).

/**
 * Creates an element. `props`: class (string), text (string), data (object
 * of data-* values), any other key set as an attribute; `children`: nodes or
 * strings, null and false skipped.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (key === "class") {
      node.className = value;
    } else if (key === "text") {
      node.textContent = value;
    } else if (key === "data") {
      for (const [name, item] of Object.entries(value)) {
        if (item !== null && item !== undefined) {
          node.dataset[name] = String(item);
        }
      }
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

/** Appends nodes or strings, from nested arrays too; null and false are skipped. */
function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `node`. */
export function replaceChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

/** Sets text only when it changed (keeps a selection or a screen reader's place). */
export function setText(node, text) {
  if (node.textContent !== text) {
    node.textContent = text;
  }
}

/** Sets the class attribute only when it changed (no restyle for nothing). */
export function setClass(node, value) {
  if (node.className !== value) {
    node.className = value;
  }
}

/** Sets a data-* value only when it changed. */
export function setData(node, name, value) {
  const text = String(value);
  if (node.dataset[name] !== text) {
    node.dataset[name] = text;
  }
}

/** Shows or hides a node by its hidden attribute. */
export function show(node, visible) {
  if (node.hidden === visible) {
    node.hidden = !visible;
  }
}

/**
 * Puts `node` where `cursor` is in `parent` (a list kept in order without
 * rebuilding it: a node already in place is not moved, so focus and
 * selection survive). Returns the next cursor.
 */
export function placeAt(parent, node, cursor) {
  if (node === cursor) {
    return cursor.nextElementSibling;
  }
  parent.insertBefore(node, cursor);
  return cursor;
}

/** Removes `cursor` and every sibling after it; `forget(node)` for each. */
export function removeFrom(cursor, forget = () => {}) {
  while (cursor) {
    const next = cursor.nextElementSibling;
    forget(cursor);
    cursor.remove();
    cursor = next;
  }
}
