// The review form's photo preview: each chosen photo shown as a thumbnail before sending
// (URL.createObjectURL: the photo never leaves the phone until the form is sent), and a word
// when more than the allowed number are chosen.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var input = document.getElementById("f-photos");
    var preview = document.getElementById("photo-preview");
    var tooMany = document.getElementById("e-photos-count");
    if (!input || !preview) return;
    var shown = [];
    input.addEventListener("change", function () {
      shown.forEach(function (url) { URL.revokeObjectURL(url); });
      shown = [];
      preview.textContent = "";
      var max = parseInt(input.dataset.max || "9", 10);
      var files = Array.prototype.slice.call(input.files || []);
      if (tooMany) tooMany.hidden = files.length <= max;
      files.slice(0, max).forEach(function (file, n) {
        var url = URL.createObjectURL(file);
        shown.push(url);
        var item = document.createElement("li");
        var img = document.createElement("img");
        img.src = url;
        img.width = 72;
        img.height = 72;
        img.alt = file.name || "photo " + (n + 1);
        item.appendChild(img);
        preview.appendChild(item);
      });
    });
  });
})();
