// The few behaviours every page shares, without jQuery or Bootstrap's script (the CSP forbids
// inline script, so pages carry data attributes and this file binds them):
// menu toggle, closable flash messages, list selection and bulk delete with a confirmation
// dialog naming the rows, row 删除 with the same dialog, 更多 ▾ menus, the column chooser
// (remembered per user and screen), fixed identity columns, page size and jump to page,
// tabs, chart tooltips, and data-confirm: a button's question in the same dialog.
(function () {
  "use strict";
  var body = document.body;
  var self = document.currentScript;

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function store(key, value) {
    try { if (value === undefined) { return window.localStorage.getItem(key); } window.localStorage.setItem(key, value); } catch (e) { return null; }
    return null;
  }

  // ---- menu ----
  if (store("menu-collapsed") === "1" && window.innerWidth >= 768) { body.classList.add("menu-collapsed"); }
  var toggle = $("#sidebar-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      if (window.innerWidth < 768) { body.classList.toggle("menu-open"); body.classList.remove("menu-collapsed"); return; }
      body.classList.toggle("menu-collapsed");
      store("menu-collapsed", body.classList.contains("menu-collapsed") ? "1" : "0");
    });
  }

  // ---- confirmation dialog (one for every question: deletes, 确认调整, 立即运行, 重算, 撤回) ----
  // ask({text, items, title, okLabel, danger}, onOk): the styled Chinese dialog of app_base.html;
  // nothing happens unless the user presses its OK button.
  var dialog = $("#confirm-dialog");
  function ask(q, onOk) {
    if (!dialog || typeof dialog.showModal !== "function") { return; }
    var items = q.items || [];
    $("#confirm-title", dialog).textContent = q.title || "确认删除";
    $("#confirm-ok", dialog).textContent = q.okLabel || "确定删除";
    $("#confirm-ok", dialog).className = "btn btn-sm " + (q.danger ? "btn-danger" : "btn-primary");
    $(".confirm-note", dialog).hidden = !q.deleteNote;
    $("#confirm-text", dialog).textContent = q.text;
    var list = $("#confirm-items", dialog);
    list.innerHTML = "";
    items.slice(0, 10).forEach(function (name) {
      var li = document.createElement("li"); li.textContent = name; list.appendChild(li);
    });
    if (items.length > 10) { var more = document.createElement("li"); more.textContent = "等共 " + items.length + " 条"; list.appendChild(more); }
    dialog.returnValue = "";
    dialog.onclose = function () { if (dialog.returnValue === "ok") { onOk(); } };
    dialog.showModal();
    $("#confirm-cancel", dialog).focus();
  }
  function askDelete(text, items, onOk) {
    ask({text: text, items: items, danger: true, deleteNote: true}, onOk);
  }

  function rowLabel(el) {
    var cell = el.closest("tr") && el.closest("tr").querySelector(".list-buttons-column");
    return cell ? cell.getAttribute("data-row-label") : "";
  }

  // ---- selection and bulk delete ----
  var toggleAll = $(".action-rowtoggle");
  function selected() { return $all("input.action-checkbox:checked"); }
  function refreshSelection() {
    var n = selected().length;
    $all("[data-bulk-action]").forEach(function (b) { b.disabled = n === 0; b.title = n ? "" : "先勾选要删除的记录"; });
    var counter = $("#selected-count");
    if (counter) { counter.hidden = n === 0; counter.textContent = "已选 " + n + " 条"; }
  }
  if (toggleAll) {
    toggleAll.addEventListener("change", function () {
      $all("input.action-checkbox").forEach(function (c) { c.checked = toggleAll.checked; });
      refreshSelection();
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input.action-checkbox")) { refreshSelection(); }
  });
  refreshSelection();

  function submitAction(name, ids) {
    var form = $("#action_form");
    form.querySelector("[name=action]").value = name;
    $all("input[name=rowid]", form).forEach(function (i) { i.remove(); });
    ids.forEach(function (id) {
      var input = document.createElement("input");
      input.type = "hidden"; input.name = "rowid"; input.value = id; form.appendChild(input);
    });
    form.submit();
  }

  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-bulk-action]");
    if (el) {
      event.preventDefault();
      var boxes = selected();
      if (!boxes.length) { return; }
      var question = el.getAttribute("data-bulk-question");
      var text = question ? question + "(共 " + boxes.length + " 条)" : "确定删除以下 " + boxes.length + " 条记录吗?";
      var run = function () {
        submitAction(el.getAttribute("data-bulk-action"), boxes.map(function (b) { return b.value; }));
      };
      if (question) { ask({text: text, items: boxes.map(rowLabel), title: "请确认", okLabel: el.getAttribute("data-bulk-label")}, run); }
      else { askDelete(text, boxes.map(rowLabel), run); }
      return;
    }
    el = event.target.closest("[data-confirm-delete]");
    if (el) {
      event.preventDefault();
      var form = el.closest("form");
      var label = rowLabel(el) || el.getAttribute("data-confirm-delete") || "这条记录";
      askDelete("确定删除「" + label + "」吗?", [], function () { form.submit(); });
      return;
    }
    el = event.target.closest("[data-confirm]");
    if (el) {
      // A submit button with a question: the dialog first, then the form as that button sends it.
      event.preventDefault();
      var owner = el.form || el.closest("form");
      ask({text: el.getAttribute("data-confirm"), title: el.getAttribute("data-confirm-title") || "请确认",
           okLabel: el.textContent.trim(), danger: /btn-(outline-)?danger/.test(el.className)}, function () {
        if (owner && owner.requestSubmit) { owner.requestSubmit(el); } else if (el.href) { window.location.href = el.href; }
      });
      return;
    }
    el = event.target.closest("[data-dismiss-alert]");
    if (el) { el.closest(".alert").remove(); return; }
    el = event.target.closest("[data-inline-add]");
    if (el && window.faForm) { event.preventDefault(); window.faForm.addInlineField(el, el.getAttribute("data-inline-add")); return; }
    el = event.target.closest("[data-print]");
    if (el) { event.preventDefault(); window.print(); return; }
    // A click outside an open 更多 ▾ / column chooser closes it.
    $all("details.row-more[open], details.column-chooser[open]").forEach(function (d) {
      if (!d.contains(event.target)) { d.open = false; }
    });
  });

  // 更多 ▾: the menu is placed by the page, not clipped by the table's scroll box.
  $all("details.row-more").forEach(function (d) {
    d.addEventListener("toggle", function () {
      if (!d.open) { return; }
      $all("details.row-more[open]").forEach(function (o) { if (o !== d) { o.open = false; } });
      var r = d.querySelector("summary").getBoundingClientRect(), menu = d.querySelector(".row-more-menu");
      menu.style.top = Math.min(r.bottom + 2, window.innerHeight - menu.offsetHeight - 4) + "px";
      menu.style.left = Math.max(4, r.right - menu.offsetWidth) + "px";
    });
  });
  window.addEventListener("scroll", function () { $all("details.row-more[open]").forEach(function (d) { d.open = false; }); }, true);

  // ---- column chooser (per user and screen) and fixed columns ----
  var table = $("table.model-list");
  function fixColumns() {
    if (!table) { return; }
    var head = table.tHead && table.tHead.rows[0];
    if (!head) { return; }
    var left = 0, lastIndex = -1;
    Array.prototype.forEach.call(head.cells, function (th, i) {
      if (!th.classList.contains("fix-l") || th.offsetParent === null) { return; }
      $all("tr", table).forEach(function (tr) {
        var cell = tr.cells[i];
        if (cell && cell.classList.contains("fix-l")) { cell.style.left = left + "px"; cell.classList.remove("last-fix"); }
      });
      left += th.getBoundingClientRect().width;
      lastIndex = i;
    });
    if (lastIndex >= 0) { $all("tr", table).forEach(function (tr) { if (tr.cells[lastIndex]) { tr.cells[lastIndex].classList.add("last-fix"); } }); }
  }
  if (table) {
    var key = "columns:" + (table.getAttribute("data-user") || "") + ":" + table.getAttribute("data-columns-key");
    var chooser = $("#column-chooser");
    var style = document.createElement("style");
    document.head.appendChild(style);
    var hidden = [];
    try { hidden = JSON.parse(store(key) || "[]"); } catch (e) { hidden = []; }
    function applyColumns() {
      style.textContent = hidden.map(function (c) { return "table.model-list ." + c + "{display:none}"; }).join("\n");
      if (chooser) { $all("input[type=checkbox]", chooser).forEach(function (b) { b.checked = hidden.indexOf(b.value) < 0; }); }
      fixColumns();
    }
    if (chooser) {
      hidden = hidden.filter(function (c) { var b = chooser.querySelector("input[value='" + c + "']"); return b && !b.disabled; });
      chooser.addEventListener("change", function (event) {
        var box = event.target;
        if (!box.value) { return; }
        hidden = hidden.filter(function (c) { return c !== box.value; });
        if (!box.checked) { hidden.push(box.value); }
        store(key, JSON.stringify(hidden));
        applyColumns();
      });
      var reset = chooser.querySelector("[data-columns-reset]");
      if (reset) { reset.addEventListener("click", function () { hidden = []; store(key, "[]"); applyColumns(); }); }
    }
    applyColumns();
    window.addEventListener("resize", fixColumns);
  }

  // ---- pager ----
  var size = $("[data-page-size]");
  if (size) { size.addEventListener("change", function () { window.location.href = size.value; }); }
  var jump = $("#pager-jump");
  if (jump) {
    jump.addEventListener("submit", function (event) {
      event.preventDefault();
      var n = parseInt(jump.querySelector("input").value, 10), pages = parseInt(jump.getAttribute("data-pages"), 10);
      if (!n || n < 1) { n = 1; }
      if (pages && n > pages) { n = pages; }
      window.location.href = jump.getAttribute("data-url-template").replace("987654320", String(n - 1));
    });
  }

  // ---- tabs (贷款详情): the hash names the tab, so a link or reload opens it ----
  var tabs = $all("[data-tab]");
  function showTab(name) {
    var found = false;
    tabs.forEach(function (a) { var on = a.getAttribute("data-tab") === name; a.classList.toggle("active", on); if (on) { found = true; } });
    if (!found && tabs.length) { return showTab(tabs[0].getAttribute("data-tab")); }
    $all(".tab-panel").forEach(function (p) { p.hidden = p.id !== "tab-" + name; });
  }
  if (tabs.length) {
    tabs.forEach(function (a) {
      a.addEventListener("click", function (event) {
        event.preventDefault();
        showTab(a.getAttribute("data-tab"));
        if (window.history.replaceState) { window.history.replaceState(null, "", "#" + a.getAttribute("data-tab")); }
      });
    });
    showTab((window.location.hash || "").replace("#", "") || tabs[0].getAttribute("data-tab"));
  }

  // ---- dialogs opened by a button (audit log details) ----
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-open-dialog]");
    if (!el) { return; }
    event.preventDefault();
    var d = document.getElementById(el.getAttribute("data-open-dialog"));
    if (d && typeof d.showModal === "function") { d.showModal(); }
  });

  // ---- chart tooltips: each bar carries data-tip ----
  var tip = null;
  document.addEventListener("mousemove", function (event) {
    var bar = event.target.closest && event.target.closest("[data-tip]");
    if (!bar) { if (tip) { tip.hidden = true; } return; }
    if (!tip) { tip = document.createElement("div"); tip.className = "chart-tip"; body.appendChild(tip); }
    tip.hidden = false;
    tip.textContent = bar.getAttribute("data-tip");
    tip.style.left = (event.clientX + 12) + "px";
    tip.style.top = (event.clientY + 12) + "px";
  });

  // ---- the Chinese date picker: its scripts only on pages with a date input ----
  // After the page's own scripts (a form page may have loaded jQuery with select2 already),
  // the stylesheet, then jQuery if missing, moment, daterangepicker and static/date-picker.js
  // in order; the URLs (content-hashed) come from app_base.html.
  document.addEventListener("DOMContentLoaded", function () {
    if (!self || !self.getAttribute("data-date-picker-js") || !$("input[data-date-picker]")) { return; }
    var css = document.createElement("link");
    css.rel = "stylesheet"; css.href = self.getAttribute("data-date-picker-css");
    document.head.appendChild(css);
    var scripts = (window.jQuery ? [] : [self.getAttribute("data-jquery")])
      .concat(self.getAttribute("data-date-picker-js").split(" "));
    scripts.forEach(function (src) {
      var s = document.createElement("script");
      s.src = src; s.async = false;
      if (self.nonce) { s.nonce = self.nonce; }
      body.appendChild(s);
    });
  });

  // ---- forms: the server checks every field and says what is wrong in Chinese ----
  $all("form").forEach(function (f) { f.setAttribute("novalidate", "novalidate"); });
})();
