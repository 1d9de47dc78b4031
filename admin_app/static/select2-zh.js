// Chinese messages for the select2 3.5 lookups of Flask-Admin's forms.
(function ($) {
  "use strict";
  if (!$ || !$.fn || !$.fn.select2) { return; }
  $.fn.select2.locales = $.fn.select2.locales || {};
  $.fn.select2.locales["zh-CN"] = {
    formatNoMatches: function () { return "没有找到匹配项"; },
    formatInputTooShort: function (input, min) { return "请再输入 " + (min - input.length) + " 个字"; },
    formatInputTooLong: function (input, max) { return "请删掉 " + (input.length - max) + " 个字"; },
    formatSelectionTooBig: function (limit) { return "最多只能选择 " + limit + " 项"; },
    formatLoadMore: function () { return "加载更多…"; },
    formatSearching: function () { return "查找中…"; },
    formatAjaxError: function () { return "查找失败,请重试"; }
  };
  $.extend($.fn.select2.defaults, $.fn.select2.locales["zh-CN"]);
})(window.jQuery);
