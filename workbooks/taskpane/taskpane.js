// Potentiel task pane: three buttons, each posting the workbook to the server's endpoint
// through xlwings' Office.js client (xlwings.runPython), which applies the actions it gets
// back. The bearer token is typed once and kept in this browser's local storage.
"use strict";

const TOKEN_KEY = "potentiel-token";

function status(text) {
  document.getElementById("status").textContent = text;
}

function token() {
  return document.getElementById("token").value.trim();
}

async function run(endpoint, button) {
  if (!token()) {
    status("Type the access token first.");
    return;
  }
  localStorage.setItem(TOKEN_KEY, token());
  const buttons = document.querySelectorAll("button.action");
  buttons.forEach((b) => (b.disabled = true));
  status("Running " + button.textContent + "…");
  try {
    // Errors (401, 413, 400 with a message) are shown by xlwings in a dialog.
    await xlwings.runPython(window.location.origin + endpoint, {
      auth: "Bearer " + token(),
    });
    status("Done: see the Status cell on Accounts.");
  } catch (error) {
    status("Failed: " + error);
  } finally {
    buttons.forEach((b) => (b.disabled = false));
  }
}

Office.onReady(function () {
  const saved = localStorage.getItem(TOKEN_KEY);
  if (saved) {
    document.getElementById("token").value = saved;
  }
  for (const id of ["recompute", "check-rules", "explain", "plan", "territory", "preview"]) {
    const button = document.getElementById(id);
    button.addEventListener("click", () => run("/" + id, button));
  }
});
