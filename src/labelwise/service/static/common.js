// labelwise pages: the token from the URL fragment (#token=...), kept for the tab only,
// and a JSON fetch helper. Everything is rendered with textContent, never innerHTML.
"use strict";
window.lw = (function () {
  const frag = new URLSearchParams(location.hash.slice(1));
  if (frag.get("token")) {
    sessionStorage.setItem("lw_token", frag.get("token"));
    history.replaceState(null, "", location.pathname + location.search);
  }
  const token = sessionStorage.getItem("lw_token") || "";
  async function api(method, path, body) {
    const init = { method, headers: { Authorization: "Bearer " + token } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const r = await fetch(path, init);
    let data = null;
    const type = r.headers.get("content-type") || "";
    if (type.includes("application/json")) data = await r.json();
    if (!r.ok) throw new Error((data && data.error) || r.status + " " + r.statusText);
    return data;
  }
  async function blob(path) {
    const r = await fetch(path, { headers: { Authorization: "Bearer " + token } });
    if (!r.ok) throw new Error(r.status + " " + r.statusText);
    const b = await r.blob();
    b.version = r.headers.get("X-Labelwise-Version");  // a consensus export's version
    return b;
  }
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function project(cb) {
    const q = new URLSearchParams(location.search).get("project");
    return api("GET", "/api/me").then(function (me) {
      return { me: me, project: q || me.projects[0] || null };
    });
  }
  return { api: api, blob: blob, el: el, token: token, project: project };
})();
