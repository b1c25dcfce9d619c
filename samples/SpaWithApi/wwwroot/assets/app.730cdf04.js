// The whole single-page app: a client-side router over two views, fed by the API at /api/todos.
// Deep links such as /todos/42 work because the server answers every path that is not a file
// with index.html (TryFiles), and this script then reads location.pathname.
const main = document.querySelector("main");

function element(tag, properties, ...children) {
  const node = Object.assign(document.createElement(tag), properties);
  node.append(...children);
  return node;
}

// Links inside the app change the URL without a page load; the browser's back button comes back here.
function link(href, text) {
  return element("a", { href, onclick: (event) => { event.preventDefault(); navigate(href); } }, text);
}

function navigate(href) {
  history.pushState(null, "", href);
  route();
}

async function api(path, options) {
  const response = await fetch(path, { headers: { "Accept": "application/json", "Content-Type": "application/json" }, ...options });
  const body = await response.json().catch(() => null);
  return { ok: response.ok, status: response.status, body };
}

// A problem+json answer (RFC 9457): its title, then each field's errors.
function problem(result) {
  const messages = [result.body?.title ?? `The server answered ${result.status}.`];
  for (const errors of Object.values(result.body?.errors ?? {})) {
    messages.push(...errors);
  }
  return element("p", { className: "problem" }, messages.join(" "));
}

async function showList() {
  const result = await api("/api/todos");
  if (!result.ok) {
    main.replaceChildren(problem(result));
    return;
  }

  const items = result.body.map((todo) =>
    element("li", { className: todo.done ? "done" : "" }, link(`/todos/${todo.id}`, todo.title)));
  const input = element("input", { name: "title", placeholder: "Something to do", autocomplete: "off" });
  const message = element("div");
  const form = element("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      const created = await api("/api/todos", { method: "POST", body: JSON.stringify({ title: input.value }) });
      if (created.ok) {
        navigate(`/todos/${created.body.id}`);
      } else {
        message.replaceChildren(problem(created));
      }
    },
  }, input, element("button", { type: "submit" }, "Add"));
  main.replaceChildren(element("h2", {}, "To do"), element("ul", {}, ...items), form, message);
}

async function showTodo(id) {
  const result = await api(`/api/todos/${id}`);
  const back = element("p", {}, link("/", "All to-dos"));
  if (!result.ok) {
    main.replaceChildren(problem(result), back);
    return;
  }

  main.replaceChildren(
    element("h2", {}, `To-do ${result.body.id}`),
    element("p", { className: result.body.done ? "done" : "" }, result.body.title),
    element("p", {}, result.body.done ? "Done." : "Not done yet."),
    back);
}

function route() {
  const todo = location.pathname.match(/^\/todos\/(\d+)$/);
  if (todo) {
    showTodo(todo[1]);
  } else {
    showList();
  }
}

window.addEventListener("popstate", route);
route();
