// The language picker: a link in the menu bar to the same page in the other
// language. The English book is built at the root of the output, the zh-CN book in
// its `zh-CN/` folder (`cargo xtask book-check` builds both), so the other edition of a
// page is the same path with `zh-CN/` added or taken away. mdBook gives every page
// `path_to_root` and `<html lang="…">`; nothing else is needed, and it works from
// file:// as well as from a web server.
(function () {
    "use strict";
    const buttons = document.querySelector("#mdbook-menu-bar .right-buttons, .menu-bar .right-buttons");
    if (!buttons || typeof path_to_root === "undefined") {
        return;
    }
    const chinese = document.documentElement.lang === "zh-CN";
    const root = new URL(path_to_root || "./", window.location.href);
    const page = window.location.href.slice(root.href.length) || "index.html";
    const target = chinese ? new URL("../" + page, root) : new URL("zh-CN/" + page, root);
    const link = document.createElement("a");
    link.id = "language-picker";
    link.href = target.href;
    link.hreflang = chinese ? "en" : "zh-CN";
    link.lang = chinese ? "en" : "zh-CN";
    link.textContent = chinese ? "English" : "中文";
    link.title = chinese ? "Read this page in English" : "阅读本页的中文版";
    link.setAttribute("aria-label", link.title);
    buttons.prepend(link);
})();
