// The suggestion form without JavaScript shows every field; with it, the name and email fields
// appear only when "With my name" is chosen, and are emptied when "Anonymous" is.
(function () {
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
  update();
})();
