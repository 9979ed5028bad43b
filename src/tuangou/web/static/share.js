// Sharing to a chat: the phone's share sheet where the browser has one (navigator.share),
// else the link is copied. Copy buttons work where the Clipboard API is missing too (a page
// served over plain http): the text is selected and copied the old way.
(function () {
  "use strict";
  function copied(button) {
    if (!button.dataset.label) button.dataset.label = button.textContent;
    button.textContent = button.dataset.done || "✓";
    var status = document.getElementById(button.dataset.status || "");
    if (status) status.textContent = button.dataset.done || "";
    setTimeout(function () { button.textContent = button.dataset.label; }, 2000);
  }
  function copyOldWay(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    document.body.removeChild(area);
    return done;
  }
  function copy(text, button) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(button); }, function () {
        if (copyOldWay(text)) copied(button);
      });
    } else if (copyOldWay(text)) {
      copied(button);
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-share-url]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var url = button.dataset.shareUrl;
        if (navigator.share) {
          var text = button.dataset.shareText || "";
          var data = { title: button.dataset.shareTitle || document.title, text: text };
          if (text.indexOf(url) < 0) data.url = url;  // a 接龙 text already ends with it
          navigator.share(data).catch(function () { /* closed by the person: nothing to say */ });
        } else {
          copy(url, button);  // no share sheet: the link, ready to paste
        }
      });
    });
    document.querySelectorAll("[data-copy-from]").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copyFrom);
        if (source) copy(source.value !== undefined ? source.value : source.textContent, button);
      });
    });
  });
})();
