// Unit tests of the request helper and the models, in Node (which has fetch).
const esModules = ['@jupyterlab/', '@jupyter/', 'lib0', 'y-protocols', 'yjs', 'nanoid'].join('|');

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testRegex: '.*\\.spec\\.tsx?$',
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json'}],
    '^.+\\.jsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json'}]
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esModules}))`],
  moduleNameMapper: {
    '\\.(css|svg)$': '<rootDir>/test/stub.js'
  }
};
