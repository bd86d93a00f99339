/** Finds an element the page's HTML promises, failing loudly if the HTML and the code disagree. */
export function byId<T extends HTMLElement>(id: string, type: abstract new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`#${id} is missing from the page's index.html or is not a ${type.name}`);
  return found;
}
