/* The series list: a tooltip on each drag handle, and a reload after a drop so that the
   Default column (which depends on the order) is true without the user reloading. */
"use strict";
(function () {
  function init() {
    var help = document.querySelector(".docnumbers-series-help");
    var title = help ? help.getAttribute("data-drag-title") : "";
    document.querySelectorAll("#result_list div.drag.handle").forEach(function (handle) {
      handle.setAttribute("title", title);
      handle.setAttribute("aria-label", title);
    });
    var config = document.getElementById("admin_sortable2_config");
    if (!config || !window.fetch) {
      return;
    }
    var updateUrl = JSON.parse(config.textContent).update_url;
    var fetch = window.fetch;
    window.fetch = function (url, options) {
      var answer = fetch.apply(this, arguments);
      if (url === updateUrl && options && options.method === "POST") {
        answer.then(function (response) {
          if (response.status === 200) {
            window.location.reload();
          }
        });
      }
      return answer;
    };
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
