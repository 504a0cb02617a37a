// The suggestion form without JavaScript shows every field; with it, the name and email fields
// appear only when "With my name" is chosen, and are emptied when "Anonymous" is.
// Loaded in the page's head (not deferred), as survey.js: until its first update() the
// stylesheet keeps the name and email folded (html.js without .ready), so they never show and
// then vanish under the reader's eyes (layout shift).
(function () {
  document.documentElement.classList.add("js");
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }

  function start() {
    var named = document.getElementById("named-fields");
    var radios = document.querySelectorAll("input[name='identity']");
    if (!named || !radios.length) return;
    function update() {
      var choice = document.querySelector("input[name='identity']:checked");
      var anonymous = choice && choice.value === "anonymous";
      named.hidden = !choice || anonymous;
      if (anonymous) {
        named.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      }
    }
    radios.forEach(function (radio) { radio.addEventListener("change", update); });
    try {
      update();
    } finally {  // never leave the fields folded
      named.classList.add("ready");
    }
  }
})();
