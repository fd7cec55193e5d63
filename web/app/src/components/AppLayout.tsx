import AppBar from '@mui/material/AppBar';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Container from '@mui/material/Container';
import IconButton from '@mui/material/IconButton';
import Link from '@mui/material/Link';
import ListSubheader from '@mui/material/ListSubheader';
import Menu from '@mui/material/Menu';
import MenuItem from '@mui/material/MenuItem';
import Toolbar from '@mui/material/Toolbar';
import Typography from '@mui/material/Typography';
import { Suspense, useEffect, useId, useRef, useState } from 'react';
import { Link as RouterLink, NavLink, Outlet, useLocation, useNavigate, useOutletContext } from 'react-router';
import type { HomeState } from '../features/gallery/GalleryPage';
import { useI18n, type MessageKey } from '../i18n';
import { visuallyHidden } from '../lib/a11y';
import { selectUser } from '../store/authSlice';
import { useAppDispatch, useAppSelector } from '../store/hooks';
import { endSession } from '../store/session';
import { MenuIcon } from './icons';
import { LanguageSwitch } from './LanguageSwitch';
import { Loading } from './Loading';
import { RouteErrorBoundary } from './RouteErrorBoundary';
import { SessionWatcher } from './SessionWatcher';

interface NavItem {
  to: string;
  label: MessageKey;
}

function useNavItems(): NavItem[] {
  const user = useAppSelector(selectUser);
  const items: NavItem[] = [
    { to: '/', label: 'nav.gallery' },
    { to: '/upload', label: 'nav.upload' },
    { to: '/templates/new', label: 'nav.newTemplate' },
  ];
  if (user) items.push({ to: '/me', label: 'nav.me' });
  else items.push({ to: '/login', label: 'nav.login' }, { to: '/signup', label: 'nav.signup' });
  return items;
}

function SkipLink() {
  const { t } = useI18n();
  return (
    <Link
      href="#main"
      sx={{
        position: 'absolute',
        left: 8,
        top: -48,
        zIndex: 2000,
        p: 1,
        bgcolor: 'background.paper',
        '&:focus': { top: 8 },
      }}
    >
      {t('nav.skip')}
    </Link>
  );
}

function WideNav({ onLogOut }: { onLogOut: () => void }) {
  const { t } = useI18n();
  const user = useAppSelector(selectUser);
  const items = useNavItems();
  return (
    <Box component="nav" aria-label={t('nav.label')} sx={{ display: { xs: 'none', md: 'flex' }, gap: 0.5, alignItems: 'center' }}>
      {items.map((it) => (
        <Button
          key={it.to}
          component={NavLink}
          to={it.to}
          end
          color="inherit"
          sx={{ '&[aria-current=page]': { textDecoration: 'underline', textUnderlineOffset: 6 } }}
        >
          {t(it.label)}
        </Button>
      ))}
      {user && (
        <Button color="inherit" onClick={onLogOut}>
          {t('nav.logout')}
        </Button>
      )}
    </Box>
  );
}

function NarrowNav({ onLogOut }: { onLogOut: () => void }) {
  const { t } = useI18n();
  const user = useAppSelector(selectUser);
  const items = useNavItems();
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  const menuId = useId();
  const { pathname } = useLocation();
  const close = () => setAnchor(null);
  return (
    <Box component="nav" aria-label={t('nav.label')} sx={{ display: { xs: 'block', md: 'none' } }}>
      <IconButton
        color="inherit"
        aria-label={t('nav.menu')}
        aria-controls={anchor ? menuId : undefined}
        aria-haspopup="true"
        aria-expanded={anchor ? 'true' : undefined}
        onClick={(e) => setAnchor(e.currentTarget)}
      >
        <MenuIcon />
      </IconButton>
      <Menu id={menuId} anchorEl={anchor} open={!!anchor} onClose={close}>
        {/* The wide header shows who is logged in; on a phone, the menu does. */}
        {/* A heading, not a dimmed item: read in full contrast, and not
            announced as unavailable. */}
        {user && (
          <ListSubheader sx={{ lineHeight: 1.5, py: 1, whiteSpace: 'normal', overflowWrap: 'anywhere', maxWidth: '80vw' }}>
            {t('nav.loggedInAs', { alias: user.alias })}
          </ListSubheader>
        )}
        {items.map((it) => (
          <MenuItem
            key={it.to}
            component={RouterLink}
            to={it.to}
            onClick={close}
            aria-current={pathname === it.to ? 'page' : undefined}
            sx={{ '&[aria-current=page]': { fontWeight: 700 } }}
          >
            {t(it.label)}
          </MenuItem>
        ))}
        {user && (
          <MenuItem
            onClick={() => {
              close();
              onLogOut();
            }}
          >
            {t('nav.logout')}
          </MenuItem>
        )}
      </Menu>
    </Box>
  );
}

/** What the layout offers its pages (react-router's outlet context). */
export interface LayoutContext {
  /**
   * Goes home and ends the session there, as logging out does; state is
   * handed to the home page (a notice to show). replace: the page left
   * should not be gone back to.
   */
  endSessionAtHome: (options?: { state?: HomeState; replace?: boolean }) => void;
}

export function useLayout(): LayoutContext {
  return useOutletContext<LayoutContext>();
}

/** Focus the main region after each navigation, so keyboard and screen-reader users start on the new page. */
function useFocusOnNavigate() {
  const { pathname } = useLocation();
  const ref = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    ref.current?.focus({ preventScroll: true });
    window.scrollTo?.(0, 0);
  }, [pathname]);
  return ref;
}

export function AppLayout() {
  const { t, lang } = useI18n();
  const user = useAppSelector(selectUser);
  const dispatch = useAppDispatch();
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const mainRef = useFocusOnNavigate();

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  // Home first, and the session ends once there: ended on a page that
  // needs an account, it would send the person to log in, as if they had
  // been thrown out.
  const [leaving, setLeaving] = useState(false);
  const endSessionAtHome: LayoutContext['endSessionAtHome'] = ({ state, replace } = {}) => {
    setLeaving(true);
    navigate('/', { replace: replace || pathname === '/', state });
  };
  const logOut = () => endSessionAtHome();
  useEffect(() => {
    if (leaving && pathname === '/') {
      setLeaving(false);
      dispatch(endSession());
    }
  }, [leaving, pathname, dispatch]);

  return (
    <>
      <SkipLink />
      <AppBar position="sticky" elevation={1}>
        <Toolbar sx={{ gap: 1, px: { xs: 1, sm: 2 } }}>
          <Typography
            component={RouterLink}
            to="/"
            variant="h6"
            sx={{ color: 'inherit', textDecoration: 'none', fontWeight: 800, whiteSpace: 'nowrap' }}
          >
            IGE MOJI
            {/* Between md and lg the wide nav and who is logged in need its room. */}
            <Box component="span" lang="ko" sx={{ display: { xs: 'none', sm: 'inline', md: 'none', lg: 'inline' }, ml: 1, fontWeight: 400, fontSize: '0.9rem' }}>
              이게 모지?
            </Box>
          </Typography>
          <Box sx={{ flexGrow: 1 }} />
          {user && (
            // Read out at every width; shown beside the wide nav (the
            // phone menu says it), cut short with its whole in a tooltip.
            <Typography variant="body2" sx={{ mr: { md: 1 }, minWidth: 0 }}>
              <Box component="span" sx={visuallyHidden}>
                {t('nav.loggedInAs', { alias: user.alias })}
              </Box>
              <Box
                component="span"
                aria-hidden
                title={user.alias}
                sx={{
                  display: { xs: 'none', md: 'block' },
                  maxWidth: { md: '9em', lg: '16em' },
                  overflow: 'hidden',
                  textOverflow: 'ellipsis',
                  whiteSpace: 'nowrap',
                }}
              >
                {user.alias}
              </Box>
            </Typography>
          )}
          <WideNav onLogOut={logOut} />
          <LanguageSwitch />
          <NarrowNav onLogOut={logOut} />
        </Toolbar>
      </AppBar>
      <Container component="main" id="main" ref={mainRef} tabIndex={-1} maxWidth="lg" sx={{ py: 3, px: { xs: 1.5, sm: 3 }, outline: 'none' }}>
        <RouteErrorBoundary key={pathname}>
          <Suspense fallback={<Loading />}>
            <Outlet context={{ endSessionAtHome } satisfies LayoutContext} />
          </Suspense>
        </RouteErrorBoundary>
      </Container>
      <SessionWatcher />
    </>
  );
}
