// spacecast's episode page: chapter and soundbite links play in the page's own player.
//
// Without this script each link is a media-fragment URL to the audio file (episodes/x.mp3#t=30
// or #t=30,45), which the browser plays on its own. With it, a click (or Enter on the focused
// link) seeks the player of the link's episode to data-start and plays; a soundbite (data-end)
// pauses at its end. No dependencies, no build step.
(function () {
  'use strict';

  // Per player: where the soundbite that is playing ends, and the timer that stops it there.
  var stops = new WeakMap();

  function clearStop(audio) {
    var s = stops.get(audio);
    if (s) {
      clearTimeout(s.timer);
      stops.delete(audio);
    }
  }

  // check pauses the player once it reaches the soundbite's end, else waits until it should.
  function check(audio) {
    var s = stops.get(audio);
    if (!s) return;
    clearTimeout(s.timer);
    if (audio.currentTime >= s.end - 0.01) {
      clearStop(audio);
      audio.pause();
      return;
    }
    if (!audio.paused) {
      var ms = ((s.end - audio.currentTime) * 1000) / (audio.playbackRate || 1);
      s.timer = setTimeout(function () { check(audio); }, Math.max(0, ms));
    }
  }

  function watch(audio) {
    if (audio.dataset.spacecast) return;
    audio.dataset.spacecast = '1';
    ['playing', 'timeupdate', 'ratechange'].forEach(function (type) {
      audio.addEventListener(type, function () { check(audio); });
    });
    audio.addEventListener('pause', function () {
      var s = stops.get(audio);
      if (s) clearTimeout(s.timer);
    });
    // A seek by the listener outside the soundbite ends it.
    audio.addEventListener('seeked', function () {
      var s = stops.get(audio);
      if (s && (audio.currentTime < s.start - 0.5 || audio.currentTime > s.end)) clearStop(audio);
      else check(audio);
    });
  }

  function seek(audio, start, end) {
    watch(audio);
    clearStop(audio);
    if (isFinite(end) && end > start) stops.set(audio, { start: start, end: end, timer: 0 });
    // Before the metadata has loaded this sets the element's "default playback start position"
    // (HTML, media elements: offsets into the media resource), so it works before loading too.
    audio.currentTime = start;
    var played = audio.play();
    if (played && played.catch) {
      // Refused (no user gesture, or the file is gone): the player shows its own state.
      played.catch(function () {});
    }
  }

  // One episode plays at a time: starting a player pauses the others.
  document.addEventListener('play', function (ev) {
    var players = document.querySelectorAll('audio');
    for (var i = 0; i < players.length; i++) {
      if (players[i] !== ev.target) players[i].pause();
    }
  }, true);

  document.addEventListener('click', function (ev) {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    var link = ev.target.closest ? ev.target.closest('a[data-start]') : null;
    if (!link) return;
    var episode = link.closest('article');
    var audio = episode ? episode.querySelector('audio') : null;
    var start = parseFloat(link.getAttribute('data-start'));
    if (!audio || !isFinite(start)) return; // the media fragment link still works
    ev.preventDefault();
    seek(audio, start, parseFloat(link.getAttribute('data-end') || ''));
  });
})();
