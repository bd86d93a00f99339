/** One line under the controls for what just happened: a short note, or an error that says why. */
export interface MessageLine {
  info(text: string): void;
  error(text: string): void;
}

const INFO_MS = 2500;
const ERROR_MS = 8000;

export function messageLine(element: HTMLElement): MessageLine {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const show = (text: string, isError: boolean, ms: number) => {
    clearTimeout(timer);
    element.textContent = text;
    element.classList.toggle('error', isError);
    timer = setTimeout(() => {
      element.textContent = '';
      element.classList.remove('error');
    }, ms);
  };
  return {
    info: (text) => show(text, false, INFO_MS),
    error: (text) => show(text, true, ERROR_MS),
  };
}
