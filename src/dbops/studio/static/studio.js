// dbops studio: small progressive enhancements (every page works without them).
"use strict";

// A NULL or DEFAULT box greys its input; typing in the input unticks the box.
function wireNullBoxes(root) {
  for (const box of root.querySelectorAll("input[type=checkbox][data-clears]")) {
    const input = document.getElementById(box.dataset.clears);
    if (!input) continue;
    const sync = () => {
      const boxes = root.querySelectorAll(`input[type=checkbox][data-clears="${box.dataset.clears}"]`);
      input.classList.toggle("is-null", Array.from(boxes).some((b) => b.checked));
    };
    box.addEventListener("change", () => {
      if (box.checked) {
        for (const other of root.querySelectorAll(`input[type=checkbox][data-clears="${box.dataset.clears}"]`)) {
          if (other !== box) other.checked = false;
        }
      }
      sync();
    });
    const untick = () => {
      for (const b of root.querySelectorAll(`input[type=checkbox][data-clears="${box.dataset.clears}"]`)) b.checked = false;
      sync();
    };
    input.addEventListener("input", untick);
    input.addEventListener("change", untick);
    sync();
  }
}

// A filter row offers only the operators its column supports, and an enum's values as suggestions.
function wireFilters(root) {
  let lists = 0;
  for (const row of root.querySelectorAll("form.filters .filter")) {
    const column = row.querySelector("select[name=fc]");
    const op = row.querySelector("select[name=fo]");
    const value = row.querySelector("input[name=fv]");
    const list = document.createElement("datalist");
    list.id = `enum-values-${lists++}`;
    row.appendChild(list);
    const sync = () => {
      const chosen = column.selectedOptions[0];
      const ops = chosen && chosen.dataset.ops ? chosen.dataset.ops.split(" ") : null;
      for (const option of op.options) option.disabled = ops !== null && !ops.includes(option.value);
      if (op.selectedOptions[0] && op.selectedOptions[0].disabled) op.value = "eq";
      value.disabled = op.value === "null" || op.value === "notnull";
      list.replaceChildren();
      if (chosen && chosen.dataset.values) {
        for (const v of chosen.dataset.values.split("\n")) {
          const option = document.createElement("option");
          option.value = v;
          list.appendChild(option);
        }
        value.setAttribute("list", list.id);
      } else {
        value.removeAttribute("list");
      }
    };
    column.addEventListener("change", sync);
    op.addEventListener("change", sync);
    sync();
  }
  // Disabled value inputs are not submitted: keep fc/fo/fv aligned by sending them empty.
  for (const form of root.querySelectorAll("form.filters")) {
    form.addEventListener("submit", () => {
      for (const input of form.querySelectorAll("input[name=fv]")) {
        if (input.disabled) { input.disabled = false; input.value = ""; }
      }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  wireNullBoxes(document);
  wireFilters(document);
});
