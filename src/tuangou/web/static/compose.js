// The composer's photos: a preview of each chosen photo before sending (object URLs: nothing
// is read into the page or uploaded until the form is sent), and a clear refusal past the
// limit, next to the field.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[type=file][data-preview]").forEach(function (input) {
      var list = document.getElementById(input.dataset.preview);
      var max = parseInt(input.dataset.max || "9", 10);
      var error = document.getElementById("e-" + input.name);
      var urls = [];
      input.addEventListener("change", function () {
        urls.forEach(function (u) { URL.revokeObjectURL(u); });
        urls = [];
        list.textContent = "";
        var files = Array.prototype.slice.call(input.files || []);
        if (error) {
          error.hidden = files.length <= max;
          if (files.length > max) error.textContent = input.dataset.tooMany || "";
        }
        files.slice(0, max).forEach(function (file, i) {
          var url = URL.createObjectURL(file);
          urls.push(url);
          var item = document.createElement("li");
          var img = document.createElement("img");
          img.src = url;
          img.alt = String(i + 1);
          img.width = 72;
          img.height = 72;
          item.appendChild(img);
          list.appendChild(item);
        });
      });
    });
  });
})();
