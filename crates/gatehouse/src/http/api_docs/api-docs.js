// The API reference (/v1/docs): Redoc renders the OpenAPI document the page names. A file of
// its own, not an inline script: the page's CSP runs only scripts served from here.
"use strict";
(() => {
  const root = document.getElementById("redoc");
  // Redoc's default options; it fetches the document (same origin, CSP connect-src 'self').
  Redoc.init(root.dataset.specUrl, {}, root);
})();
