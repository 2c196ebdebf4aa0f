/* Live preview of a NumberFormat: asks the server (which renders with the code that
   issues numbers) for the next numbers and the validation messages while the user types. */
"use strict";
(function () {
  function init() {
    var configNode = document.getElementById("docnumbers-preview-config");
    if (!configNode) {
      return;
    }
    var config = JSON.parse(configNode.textContent);
    var dayInput = document.getElementById("docnumbers-preview-day");
    var status = document.getElementById("docnumbers-preview-status");
    var warning = document.getElementById("docnumbers-preview-warning");
    var lists = {
      today: document.getElementById("docnumbers-preview-today"),
      day: document.getElementById("docnumbers-preview-day-numbers"),
    };
    var timer = null;
    var latest = 0;
    // Messages appear for what the user changed (a fresh add form is not an error),
    // for the template fields once anything changed, and where a save already failed.
    var touched = {};
    var anyTouched = false;
    var quiet = { code: true, name: true };
    var shownOnLoad = {};
    config.fields.forEach(function (name) {
      var field = input(name);
      var row = field && field.closest(".form-row");
      if (row && row.querySelector("ul.errorlist")) {
        shownOnLoad[name] = true;
      }
    });

    function input(name) {
      return document.getElementById("id_" + name);
    }

    // issued: text -> the document that already has it ("invoice #12").
    function showNumbers(list, preview, issued) {
      list.textContent = "";
      (preview ? preview.numbers : []).forEach(function (text) {
        var item = document.createElement("li");
        item.textContent = text;
        var owner = issued[text];
        if (owner) {
          var note = interpolate(gettext("already issued: %s"), [owner]);
          var mark = document.createElement("span");
          mark.className = "docnumbers-issued-note";
          mark.textContent = "(" + note + ")";
          item.appendChild(mark);
          item.classList.add("docnumbers-issued");
          item.title = note;
        }
        list.appendChild(item);
      });
      list.classList.toggle("docnumbers-empty", !preview);
    }

    function showWarning(text) {
      warning.textContent = text || "";
      warning.hidden = !text;
    }

    function showErrors(errors) {
      config.fields.forEach(function (name) {
        var field = input(name);
        if (!field) {
          return;
        }
        var row = field.closest(".form-row") || field.parentNode;
        var old = row.querySelector("ul.docnumbers-live-error");
        if (old) {
          old.remove();
        }
        var visible = touched[name] || shownOnLoad[name] || (anyTouched && !quiet[name]);
        var messages = visible ? errors[name] || [] : [];
        // The messages of the last save are replaced by the live ones.
        row.querySelectorAll("ul.errorlist:not(.docnumbers-live-error)").forEach(function (ul) {
          ul.hidden = true;
        });
        row.classList.toggle("errors", messages.length > 0);
        if (!messages.length) {
          return;
        }
        var list = document.createElement("ul");
        list.className = "errorlist docnumbers-live-error";
        list.id = "docnumbers-error-" + name;
        messages.forEach(function (message) {
          var item = document.createElement("li");
          item.textContent = message;
          list.appendChild(item);
        });
        var container = field.closest(".flex-container") || field;
        container.parentNode.insertBefore(list, container);
      });
    }

    function refresh() {
      var params = new URLSearchParams();
      config.fields.forEach(function (name) {
        var field = input(name);
        if (field) {
          params.set(name, field.value);
        }
      });
      params.set("day", dayInput.value);
      if (config.object_id !== null) {
        params.set("object_id", config.object_id);
      }
      var request = ++latest;
      fetch(config.url + "?" + params.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(response.status);
          }
          return response.json();
        })
        .then(function (data) {
          if (request !== latest) {
            return; // an answer to an older keystroke
          }
          showErrors(data.errors);
          showNumbers(lists.today, data.preview.today, data.issued || {});
          showNumbers(lists.day, data.preview.day, data.issued || {});
          showWarning(data.warning);
          status.textContent = data.preview.today ? "" : gettext("No preview: fix the format first.");
          document.getElementById("docnumbers-preview").dataset.state = "ready";
        })
        .catch(function () {
          status.textContent = gettext("The preview is not available.");
        });
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 200);
    }

    config.fields.concat(["docnumbers-preview-day"]).forEach(function (name) {
      var field = input(name) || document.getElementById(name);
      if (field) {
        var onEdit = function () {
          touched[name] = true;
          anyTouched = true;
          schedule();
        };
        field.addEventListener("input", onEdit);
        field.addEventListener("change", onEdit);
      }
    });
    refresh();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
