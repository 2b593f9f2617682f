// The delegate's programme page: the copy button puts the webcal link on the clipboard
// (or selects it where the clipboard is not available) and says so.
document.getElementById("copy-webcal").addEventListener("click", async function () {
  const input = document.querySelector(this.dataset.copy);
  try {
    await navigator.clipboard.writeText(input.value);
  } catch (e) {
    input.select();
    document.execCommand("copy");
  }
  document.getElementById("copy-done").hidden = false;
});
