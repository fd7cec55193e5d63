import { createTheme } from '@mui/material/styles';

const FOCUS = '#0b57d0'; // 3:1 or better against white and the light background
const FOCUS_ON_BAR = '#ffd54f'; // the same against the purple app bar

export const theme = createTheme({
  palette: {
    primary: { main: '#4a2fb5', contrastText: '#ffffff' }, // 8.9:1 with white
    secondary: { main: '#9a3412', contrastText: '#ffffff' },
    background: { default: '#f7f5fc' },
    text: { secondary: '#4f4a5e' }, // 7:1 on the background
  },
  shape: { borderRadius: 12 },
  typography: {
    fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans KR", "Apple SD Gothic Neo", "Malgun Gothic", sans-serif',
    button: { textTransform: 'none', fontWeight: 600 },
  },
  components: {
    MuiCssBaseline: {
      styleOverrides: {
        ':focus-visible': { outline: `3px solid ${FOCUS}`, outlineOffset: 2 },
        '.MuiAppBar-root :focus-visible': { outlineColor: FOCUS_ON_BAR },
        img: { maxWidth: '100%' },
        // Korean breaks between words, not inside them; a word longer than
        // the line (a link, an alias) may still break.
        'html[lang="ko"] body': { wordBreak: 'keep-all', overflowWrap: 'break-word' },
      },
    },
    MuiButtonBase: {
      styleOverrides: {
        root: {
          '&.Mui-focusVisible': { outline: `3px solid ${FOCUS}`, outlineOffset: 2 },
          '.MuiAppBar-root &.Mui-focusVisible': { outlineColor: FOCUS_ON_BAR },
        },
      },
    },
    MuiLink: { defaultProps: { underline: 'always' } },
  },
});
