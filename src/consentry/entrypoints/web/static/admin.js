// The admin app's only script: copy a block of text (the embed code) with one button.
// Served from the app itself; the pages work without it (the text can be selected by hand).
"use strict";

function copyFallback(element) {
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  return document.execCommand("copy");
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) {
    return;
  }
  const source = document.getElementById(button.dataset.copy);
  const status = document.getElementById("copy-status");
  let copied = false;
  try {
    await navigator.clipboard.writeText(source.textContent);
    copied = true;
  } catch (error) {
    copied = copyFallback(source);
  }
  if (status) {
    status.textContent = copied ? button.dataset.copied : button.dataset.failed;
  }
});
