/* The report form's map: Leaflet on a blank background (no tiles) with the district outlines from the
   tree API. A click (or Enter on the focused map, at its centre) drops the pin and fills the hidden
   lon/lat fields (WGS-84); choosing a compound or committee below does the same job without the map. */
(function () {
  "use strict";

  function init(el) {
    if (!window.L || !window.fetch) { return; }
    var lon = document.getElementById(el.getAttribute("data-lon"));
    var lat = document.getElementById(el.getAttribute("data-lat"));
    var status = el.parentNode.querySelector("[data-map-status]");
    var clear = el.parentNode.querySelector("[data-map-clear]");
    if (!lon || !lat) { return; }
    var hint = status ? status.textContent : "";

    window.fetch(el.getAttribute("data-src"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        var features = (data && data.features) || [];
        if (!features.length) { return; }
        el.hidden = false;
        if (status) { status.hidden = false; }
        var map = L.map(el, { attributionControl: false, scrollWheelZoom: false, zoomSnap: 0.25, keyboard: true });
        var layer = L.geoJSON(data, {
          style: function () { return { color: "#0b57a4", weight: 1.5, fillColor: "#5b9bd5", fillOpacity: 0.12 }; },
          onEachFeature: function (feature, shape) {
            var props = feature.properties || {};
            if (props.name) { shape.bindTooltip(props.name, { sticky: true, direction: "top" }); }
          }
        }).addTo(map);
        map.fitBounds(layer.getBounds(), { padding: [8, 8] });
        var pin = null;

        function changed() {
          lon.dispatchEvent(new Event("change", { bubbles: true }));
        }

        function place(latlng) {
          if (!pin) {
            pin = L.circleMarker(latlng, { radius: 9, color: "#c2410c", weight: 3, fillColor: "#f97316", fillOpacity: 0.8 }).addTo(map);
          } else {
            pin.setLatLng(latlng);
          }
          lon.value = latlng.lng.toFixed(6);
          lat.value = latlng.lat.toFixed(6);
          if (status) { status.textContent = status.getAttribute("data-picked") + " " + lat.value + ", " + lon.value; }
          if (clear) { clear.hidden = false; }
          changed();
        }

        if (lon.value && lat.value) { place(L.latLng(parseFloat(lat.value), parseFloat(lon.value))); }
        map.on("click", function (event) { place(event.latlng); });
        map.getContainer().addEventListener("keydown", function (event) {
          if (event.key === "Enter") { place(map.getCenter()); }
        });
        if (clear) {
          clear.addEventListener("click", function () {
            if (pin) { map.removeLayer(pin); pin = null; }
            lon.value = "";
            lat.value = "";
            clear.hidden = true;
            if (status) { status.textContent = hint; }
            changed();
          });
        }
      })
      .catch(function () { el.hidden = true; });
  }

  document.querySelectorAll("[data-report-map]").forEach(init);
})();
