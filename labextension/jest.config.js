// Unit tests of the request helper, the models and the panel's refresh, in jsdom with Node's fetch.
const esModules = ['@jupyterlab/', '@jupyter/', '@microsoft', 'exenv-es6', 'lib0', 'y-protocols', 'yjs', 'nanoid'].join('|');

module.exports = {
  testEnvironment: '<rootDir>/test/environment.js',
  roots: ['<rootDir>/test'],
  testRegex: '.*\\.spec\\.tsx?$',
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json'}],
    '^.+\\.jsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json'}],
    '^.+\\.svg$': '<rootDir>/test/raw-transform.js'
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esModules}))`],
  moduleNameMapper: {
    '\\.css$': '<rootDir>/test/stub.js'
  }
};
