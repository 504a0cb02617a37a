// Shows a conditional survey question only while its condition holds. Without JavaScript every
// question is shown with a hint, and the server ignores answers whose condition fails.
// Loaded in the page's head (not deferred), so that before the first paint <html> says "js" and
// the stylesheet keeps conditional questions folded until the first update() (the form's
// "ready"): shown, then hidden, they would shift the questions below them (layout shift).
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }

  function start() {
    var form = document.querySelector("form.survey");
    if (!form) return;
    var questions = Array.prototype.slice.call(form.querySelectorAll(".question"));

    function valuesOf(id, hidden) {
      if (hidden[id]) return [];
      var inputs = form.querySelectorAll('[name="' + id + '"]');
      var values = [];
      Array.prototype.forEach.call(inputs, function (input) {
        if ((input.type === "radio" || input.type === "checkbox") && !input.checked) return;
        if (input.value !== "") values.push(input.value);
      });
      return values;
    }

    function compare(answer, op, v) {
      var a = isNaN(Number(answer)) || typeof v === "string" ? answer : Number(answer);
      switch (op) {
        case "==": return a === v;
        case "!=": return a !== v;
        case "<": return a < v;
        case "<=": return a <= v;
        case ">": return a > v;
        case ">=": return a >= v;
        case "in": return v.indexOf(a) !== -1;
        case "not in": return v.indexOf(a) === -1;
      }
      return false;
    }

    function update() {
      var hidden = {};
      questions.forEach(function (el) {
        var rule = el.getAttribute("data-show-if");
        if (!rule) return;
        rule = JSON.parse(rule);
        var answers = valuesOf(rule.q, hidden);
        var negative = rule.op === "!=" || rule.op === "not in";
        var holds = answers.length > 0 && (negative
          ? answers.every(function (a) { return compare(a, rule.op, rule.v); })
          : answers.some(function (a) { return compare(a, rule.op, rule.v); }));
        el.hidden = !holds;
        if (!holds) hidden[el.id.slice(2)] = true;
      });
    }

    questions.forEach(function (el) {
      var hint = el.querySelector(".cond-hint");
      if (hint) hint.hidden = true;
    });
    // Tab reaches a scale's first number without choosing it; Space there would choose the lowest
    // score by itself (a false detractor, with a follow-up). While nothing on the scale is chosen,
    // Space shows the hint instead: the arrow keys choose.
    form.addEventListener("keydown", function (event) {
      var input = event.target;
      if (event.key !== " " || input.type !== "radio" || !input.closest(".scale")) return;
      var group = form.querySelectorAll('input[name="' + input.name + '"]');
      var chosen = Array.prototype.some.call(group, function (i) { return i.checked; });
      if (chosen) return;
      event.preventDefault();
      input.closest(".question").classList.add("keys-shown");
    });
    form.addEventListener("change", update);
    form.addEventListener("input", update);
    try {
      update();
    } finally {  // never leave the conditional questions folded
      form.classList.add("ready");
    }
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  }
})();
