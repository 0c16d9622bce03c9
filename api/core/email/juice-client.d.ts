// juice's client build (cheerio, no file system or network fetches), which bundles for Workers;
// its types are those of the main entry.
declare module 'juice/client.js' {
  import juice = require('juice');
  export = juice;
}
