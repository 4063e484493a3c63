// SVG files as their text, as the lab's webpack config loads them (LabIcon needs real markup).
module.exports = {
  process: source => ({ code: `module.exports = ${JSON.stringify(source)};` })
};
