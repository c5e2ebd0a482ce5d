// Taskmill console: starts the islands.
//
// The console's CSP forbids inline scripts, so instead of Leptos' inline <HydrationScripts>
// bootstrap this external module does the same job:
//   1. make sure the globals the wasm side reads during hydration exist (leptos_axum appends
//      them in an inline <script> that the CSP blocks, so we default them to empty arrays),
//   2. load the bundle's JS and instantiate its wasm (URLs from data-taskmill-js / -wasm),
//   3. call the exported `hydrate()` (sets up the reactive root for islands),
//   4. walk the document and hydrate every <leptos-island> with its exported function.
// Pages work fully without it: everything here only adds live updates.

// The server writes the bundle's URLs (content-hashed when the site is embedded in the binary)
// on this script's own tag; the plain names are the fallback.
const TAG = document.querySelector("script[data-taskmill-js]");
const JS_URL = TAG?.dataset.taskmillJs || "/pkg/taskmill.js";
const WASM_URL = TAG?.dataset.taskmillWasm || "/pkg/taskmill.wasm";

for (const name of [
  "__RESOLVED_RESOURCES",
  "__SERIALIZED_ERRORS",
  "__PENDING_RESOURCES",
  "__RESOURCE_RESOLVERS",
  "__INCOMPLETE_CHUNKS",
]) {
  if (!Array.isArray(globalThis[name])) globalThis[name] = [];
}

// Islands nested in server-rendered children register a callback on <leptos-children>;
// the innermost pending one must run before the island inside it hydrates.
const childrenHooks = [];

async function hydrateIsland(el, mod) {
  const id = el.dataset.component;
  const fn = id && mod[id];
  if (typeof fn !== "function") {
    console.warn(`taskmill: no wasm export for island ${id}`);
    return;
  }
  const hook = childrenHooks[childrenHooks.length - 1];
  if (hook) hook();
  await fn(el);
}

async function walk(node, mod) {
  if (node.nodeType !== Node.ELEMENT_NODE) return;
  const tag = node.tagName;
  if (tag === "LEPTOS-ISLAND") {
    await hydrateIsland(node, mod);
  }
  const isChildren = tag === "LEPTOS-CHILDREN";
  if (isChildren) childrenHooks.push(node.$$on_hydrate);
  try {
    for (const child of Array.from(node.children)) await walk(child, mod);
  } finally {
    if (isChildren) childrenHooks.pop();
  }
}

async function boot() {
  if (!document.querySelector("leptos-island")) return; // nothing to hydrate on this page
  const mod = await import(JS_URL);
  await mod.default({ module_or_path: WASM_URL });
  mod.hydrate();
  await walk(document.body, mod);
}

function start() {
  boot().catch((err) => console.error("taskmill: island hydration failed", err));
}

// Off the critical path, like Leptos' own islands bootstrap.
if ("requestIdleCallback" in window) {
  window.requestIdleCallback(start, { timeout: 1000 });
} else {
  setTimeout(start, 0);
}
