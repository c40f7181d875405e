// Renders the formulas that pymdownx.arithmatex (generic mode) wraps in \( \) and \[ \], with the KaTeX files
// committed under javascripts/vendor/katex/ (KaTeX 0.19.1, MIT licence): the docs need no network to show math.
// document$ is mkdocs-material's page observable, so formulas render again after instant navigation.
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "\\(", right: "\\)", display: false },
      { left: "\\[", right: "\\]", display: true },
      { left: "$$", right: "$$", display: true }
    ],
    throwOnError: false
  });
});
