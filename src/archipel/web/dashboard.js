// The dashboard's few actions: sign in/out, approve, reject, apply. Plain JS, no library.
"use strict";

function say(text, ok) {
  const el = document.getElementById("message");
  el.textContent = text;
  el.className = ok ? "ok" : "bad";
}

async function call(method, url, body) {
  const response = await fetch(url, {
    method: method,
    headers: {"Content-Type": "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  return {ok: response.ok, status: response.status, data: data};
}

const signin = document.getElementById("signin");
if (signin) {
  signin.addEventListener("submit", async (event) => {
    event.preventDefault();
    const r = await call("POST", "/api/session", {key: document.getElementById("key").value});
    if (r.ok) { location.reload(); } else { say("That key is not valid.", false); }
  });
}

const signout = document.getElementById("signout");
if (signout) {
  signout.addEventListener("click", async () => {
    await call("DELETE", "/api/session");
    location.href = "/";
  });
}

const decide = document.getElementById("decide");
if (decide) {
  const plan = decide.dataset.plan;
  const decision = async (what) => {
    const overrides = {};
    const box = document.getElementById("override");
    if (box && box.value.trim() && what === "approve") {
      for (const gate of box.dataset.gates.split(",")) { overrides[gate] = box.value.trim(); }
    }
    const comment = document.getElementById("comment").value;
    const r = await call("POST", `/api/plans/${plan}/decisions`,
                         {decision: what, comment: comment, overrides: overrides});
    if (r.ok) { location.reload(); } else { say(r.data ? r.data.detail : "failed", false); }
  };
  document.getElementById("approve").addEventListener("click", () => decision("approve"));
  document.getElementById("reject").addEventListener("click", () => decision("reject"));
  document.getElementById("apply").addEventListener("click", async () => {
    const r = await call("POST", `/api/plans/${plan}/apply`);
    if (r.ok) {
      say(`Applied as revision ${r.data.revision}. ${r.data.export_note}`, true);
      setTimeout(() => location.reload(), 800);
    } else {
      say(r.data ? r.data.detail : "failed", false);
    }
  });
}
