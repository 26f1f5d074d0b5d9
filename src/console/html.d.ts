// The bundler inlines .html files as text (scripts/build.mjs, loader "text").
declare module '*.html' {
  const text: string;
  export default text;
}
