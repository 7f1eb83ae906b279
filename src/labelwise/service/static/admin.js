// The admin page: progress, agreement, annotators (spammer flag), least confident
// items, exports. Polls the stats every 5 seconds.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let name = null;

  function card(parent, key, value, id) {
    const c = lw.el("div", null, "card");
    if (id) c.id = id;
    c.appendChild(lw.el("div", value === null || value === undefined ? "–" : value, "v"));
    c.appendChild(lw.el("div", key, "k"));
    parent.appendChild(c);
  }

  function table(t, cols, rows, flagKey) {
    t.replaceChildren();
    const head = lw.el("tr");
    cols.forEach((c) => head.appendChild(lw.el("th", c[1])));
    t.appendChild(head);
    rows.forEach(function (r) {
      const tr = lw.el("tr");
      if (flagKey && r[flagKey]) tr.className = "flag";
      cols.forEach(function (c) {
        let v = r[c[0]];
        if (typeof v === "boolean") v = v ? "yes" : "";
        if (v && typeof v === "object") v = Object.entries(v).map((e) => e[0] + ": " + e[1]).join(", ");
        tr.appendChild(lw.el("td", v === null || v === undefined ? "–" : v));
      });
      t.appendChild(tr);
    });
  }

  async function load() {
    const s = await lw.api("GET", "/api/admin/projects/" + encodeURIComponent(name) + "/stats");
    const sum = $("summary");
    sum.replaceChildren();
    card(sum, "items done", s.items_done + " / " + s.items, "items-done");
    card(sum, "answers", s.answers, "answers");
    card(sum, "progress", Math.round(100 * s.progress) + "%");
    card(sum, "mean agreement", s.mean_agreement, "agreement");
    card(sum, "mean confidence", s.mean_confidence);
    card(sum, "open leases", s.open_leases);
    card(sum, "answers to finish (est.)", s.remaining_answers);
    card(sum, "cost to finish (est.)", s.cost_to_finish);
    card(sum, "policy", s.policy + " · overlap " + s.overlap);
    if (s.model && s.model.status) card(sum, "model", s.model.status + (s.model.agreement_with_consensus != null ? " · agrees " + s.model.agreement_with_consensus : ""));
    const cons = $("consensus");
    cons.replaceChildren();
    Object.entries(s.consensus_counts).forEach((e) => card(cons, e[0], e[1]));
    table($("annotators"), [["annotator", "annotator"], ["answers", "answers"], ["skill", "skill"], ["gold_answered", "gold answers"], ["gold_accuracy", "gold accuracy"], ["seconds_per_answer", "s / answer"], ["likely_spammer", "likely spammer"]], s.annotators, "likely_spammer");
    table($("lowest"), [["external_id", "item"], ["consensus", "consensus"], ["confidence", "confidence"], ["answers", "answers"], ["votes", "votes"]], s.lowest_confidence);
    document.body.dataset.state = "ready";
  }

  async function download(what) {
    const path = what === "labelstudio.json" ? "labelstudio.json" : what;
    const b = await lw.blob("/api/admin/projects/" + encodeURIComponent(name) + "/export/" + path);
    const a = lw.el("a");
    a.href = URL.createObjectURL(b);
    a.download = name + "-" + what;
    document.body.appendChild(a); a.click(); a.remove();
    if (b.version) $("message").textContent = "consensus exported as dataset version " + b.version + " (labelwise version show " + b.version + " --root <project folder>/versions/" + name + ")";
  }

  document.querySelectorAll("[data-export]").forEach(function (b) {
    b.addEventListener("click", () => download(b.dataset.export).catch((e) => ($("message").textContent = e.message)));
  });
  $("refit").addEventListener("click", function () {
    lw.api("POST", "/api/admin/projects/" + encodeURIComponent(name) + "/refit").then(() => ($("message").textContent = "model refit queued"));
  });
  $("reload").addEventListener("click", () => load().catch((e) => ($("message").textContent = e.message)));
  $("project").addEventListener("change", function () { name = this.value; load(); });

  lw.project().then(function (ctx) {
    name = ctx.project;
    ctx.me.projects.forEach(function (p) {
      const o = lw.el("option", p); o.value = p; if (p === name) o.selected = true; $("project").appendChild(o);
    });
    if (!name) { $("message").textContent = "No project yet."; return; }
    load().catch((e) => ($("message").textContent = e.message));
    setInterval(() => load().catch(() => {}), 5000);
  }).catch(function (e) { $("message").textContent = e.message; document.body.dataset.state = "error"; });
})();
