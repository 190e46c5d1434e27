// Starts Swagger UI on the docs page. A file of its own, not an inline script,
// so the site's Content-Security-Policy holds; the document's URL comes from
// the page (it follows the API's prefix), never from here.
"use strict";

(function () {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    // No badge: it would send the document to an outside validator.
    validatorUrl: null,
    // A token pasted into Authorize lives as long as the page, not in storage.
    persistAuthorization: false,
    displayRequestDuration: true,
  });
})();
