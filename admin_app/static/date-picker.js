// The Chinese date picker of every date input (data-date-picker="date" or "minute"; see
// admin_app/date_input.py): Flask-Admin's bundled daterangepicker with Chinese month and
// weekday names, weeks from Monday (as Chinese calendars print them), YYYY-MM-DD.
// static/app.js loads this file, with jQuery, moment and daterangepicker, only on pages
// that have a date input.
(function ($) {
  "use strict";
  if (!$ || !$.fn.daterangepicker) { return; }
  var locale = {
    applyLabel: "确定", cancelLabel: "取消", fromLabel: "从", toLabel: "至", weekLabel: "周",
    customRangeLabel: "自定义",
    daysOfWeek: ["日", "一", "二", "三", "四", "五", "六"],
    monthNames: ["1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"],
    firstDay: 1
  };
  // The header reads 2026年 12月 (year first, as Chinese dates are written): the library's
  // renderDropdowns (daterangepicker 1.3, bundled by Flask-Admin) gives month then year;
  // tests/browser/test_date_picker.py fails if a new version changes that markup.
  var YEARS = '<select class="yearselect">';
  function yearFirst(picker) {
    var render = picker.renderDropdowns;
    picker.renderDropdowns = function () {
      var html = render.apply(this, arguments), at = html.indexOf(YEARS);
      if (at < 0) { return html; }
      return html.slice(at).replace(/>(\d{4})<\/option>/g, ">$1年</option>") + html.slice(0, at);
    };
    picker.updateCalendars();
  }
  $("input[data-date-picker]").each(function () {
    var $el = $(this), minute = $el.attr("data-date-picker") === "minute";
    var format = minute ? "YYYY-MM-DD HH:mm" : "YYYY-MM-DD";
    var typed = $el.val();
    $el.daterangepicker({
      singleDatePicker: true, showDropdowns: true, timePicker: minute, timePicker12Hour: false,
      timePickerIncrement: 1, format: format, locale: $.extend({}, locale), opens: "right"
    });
    yearFirst($el.data("daterangepicker"));
    // An empty field stays empty until the user picks a day (the picker starts on today).
    $el.val(typed);
    $el.on("apply.daterangepicker", function (event, picker) {
      $el.val(picker.startDate.format(format)).trigger("change");
    });
    var before = typed;
    $el.on("show.daterangepicker", function () { before = $el.val(); });
    $el.on("cancel.daterangepicker", function () { $el.val(before); });
  });
  // Tabbing to another field closes the picker (the library closes it on clicks only).
  $(document).on("focusin", function (event) {
    $("input[data-date-picker]").each(function () {
      var picker = $(this).data("daterangepicker");
      if (picker && picker.isShowing && event.target !== this && !$(event.target).closest(picker.container).length) { picker.hide(); }
    });
  });
})(window.jQuery);
