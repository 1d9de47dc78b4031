// Event bindings for what Flask-Admin's templates did with inline handlers: the CSP
// forbids inline script, so buttons carry data attributes and this file binds them.
document.addEventListener("click", function (event) {
  var el = event.target.closest("[data-action-name]");
  if (el) {
    event.preventDefault();
    if (window.modelActions) { window.modelActions.execute(el.getAttribute("data-action-name")); }
    return;
  }
  el = event.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) {
    event.preventDefault();
    return;
  }
  el = event.target.closest("[data-inline-add]");
  if (el && window.faForm) {
    event.preventDefault();
    window.faForm.addInlineField(el, el.getAttribute("data-inline-add"));
  }
});
