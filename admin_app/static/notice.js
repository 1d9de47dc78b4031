// 催收通知书: the 打印 button opens the browser's print dialog (CSP forbids inline handlers).
document.addEventListener("click", function (e) {
  if (e.target && e.target.getAttribute("data-print")) { window.print(); }
});
