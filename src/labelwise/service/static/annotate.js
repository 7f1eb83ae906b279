// The annotator page: one item at a time, a button (and a key) per class, skip, undo.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let name = null, schema = null, task = null, keys = {}, busy = false, objectUrl = null;

  function say(text) { $("message").textContent = text || ""; }
  function setState(s) { document.body.dataset.state = s; }
  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function renderTemplate(tpl, data) {
    // {{field}} placeholders filled with text nodes: payload values are never HTML
    const box = document.createDocumentFragment();
    const parts = tpl.split(/\{\{\s*([\w.]+)\s*\}\}/);
    parts.forEach(function (p, i) {
      if (i % 2 === 0) box.appendChild(document.createTextNode(p));
      else {
        const v = p.split(".").reduce((o, k) => (o == null ? o : o[k]), data);
        box.appendChild(lw.el("strong", v === undefined ? "" : (typeof v === "object" ? JSON.stringify(v) : v)));
      }
    });
    return box;
  }

  async function show(t) {
    task = t;
    const box = $("item");
    box.replaceChildren();
    if (objectUrl) { URL.revokeObjectURL(objectUrl); objectUrl = null; }
    if (!t) {
      box.appendChild(lw.el("p", "Nothing left for you here. Thank you!"));
      box.dataset.itemId = "";
      setState("done");
      return;
    }
    box.dataset.itemId = String(t.item_id);
    if (t.kind === "text") box.appendChild(lw.el("div", t.content, "text"));
    else if (t.kind === "json") {
      if (schema.template) box.appendChild(renderTemplate(schema.template, t.content));
      else box.appendChild(lw.el("pre", JSON.stringify(t.content, null, 2)));
    } else {
      const img = lw.el("img");
      img.alt = "item " + t.external_id;
      if (t.kind === "image") {
        objectUrl = URL.createObjectURL(await lw.blob(t.content));
        img.src = objectUrl;
      } else img.src = t.content;
      box.appendChild(img);
    }
    setState("ready");
  }

  async function progress() {
    try {
      const p = await lw.api("GET", "/api/projects/" + encodeURIComponent(name) + "/progress");
      $("progress").textContent = "you: " + p.my_answers + " · project: " + Math.round(100 * p.progress) + "% done";
      $("progress").dataset.mine = String(p.my_answers);
    } catch (e) { /* progress is a nicety */ }
  }

  async function act(fn) {
    if (busy) return;
    busy = true; setState("busy"); say("");
    try { await fn(); } catch (e) { say(e.message); setState(task ? "ready" : "done"); }
    finally { busy = false; }
    progress();
  }

  async function next() {
    const r = await lw.api("POST", "/api/projects/" + encodeURIComponent(name) + "/next");
    await show(r.task);
  }

  function answer(label) {
    if (!task) return;
    const body = { item_id: task.item_id, label: label, client_key: newKey() };
    act(async function () {
      let tries = 0;
      for (;;) {  // a network failure is retried with the same client key: recorded once
        try { await lw.api("POST", "/api/projects/" + encodeURIComponent(name) + "/answers", body); break; }
        catch (e) { if (!(e instanceof TypeError) || ++tries > 3) throw e; }
      }
      await next();
    });
  }

  function skip() {
    if (!task) return;
    act(async function () {
      await lw.api("POST", "/api/projects/" + encodeURIComponent(name) + "/skip", { item_id: task.item_id });
      await next();
    });
  }

  function undo() {
    act(async function () {
      const r = await lw.api("POST", "/api/projects/" + encodeURIComponent(name) + "/undo");
      if (r.task) await show(r.task); else say(r.reason);
    });
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const k = ev.key.toLowerCase();
    if (keys[k] !== undefined) { ev.preventDefault(); answer(keys[k]); }
    else if (k === "s") { ev.preventDefault(); skip(); }
    else if (k === "u") { ev.preventDefault(); undo(); }
  });
  $("skip").addEventListener("click", skip);
  $("undo").addEventListener("click", undo);

  lw.project().then(async function (ctx) {
    name = ctx.project;
    if (!name) { say("You are not assigned to any project yet."); setState("done"); return; }
    schema = await lw.api("GET", "/api/projects/" + encodeURIComponent(name));
    $("title").textContent = schema.title || schema.name;
    document.title = "labelwise · " + (schema.title || schema.name);
    $("instructions").textContent = schema.instructions || "";
    $("instructions-box").hidden = !schema.instructions;
    const box = $("classes");
    schema.classes.forEach(function (c, i) {
      const key = schema.keys[i];
      keys[key.toLowerCase()] = c;
      const b = lw.el("button", c);
      b.type = "button";
      b.dataset.label = c;
      b.appendChild(lw.el("kbd", key));
      b.addEventListener("click", () => answer(c));
      box.appendChild(b);
    });
    await act(next);
  }).catch(function (e) { say(e.message); setState("error"); });
})();
