// everyclaim: the little script the pages need (CSP forbids inline scripts). htmx does the rest.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box.matches("input.select-all")) {
    const table = box.closest("table");
    table.querySelectorAll("input[name=item_id]").forEach((b) => { b.checked = box.checked; });
  }
});
