// Ours: Swagger UI on this server's OpenAPI document. "Authorize" takes an access token (the
// document's bearer scheme); "Try it out" then sends it as `Authorization: Bearer ...`.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  persistAuthorization: false,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
