// The report's only script: hover details for a bar, and a finding's connections picked out while
// its list entry is hovered. Everything it shows comes from the gzipped JSON block; text goes in through
// textContent, never as markup.
export const REPORT_SCRIPT = `(function(){
var b=atob(document.getElementById('data').textContent),u=new Uint8Array(b.length);for(var q=0;q<b.length;q++)u[q]=b.charCodeAt(q);
new Response(new Blob([u]).stream().pipeThrough(new DecompressionStream('gzip'))).text().then(function(t){init(JSON.parse(t))});
function init(D){
var tl=document.querySelector('svg.tl'),tip=document.getElementById('tip');
var bars=tl.querySelectorAll('[data-connection-id]'),row=new Map();
for(var i=0;i<bars.length;i++)row.set(bars[i],D.rows[i]);
function dur(ms){if(ms<1000)return Math.round(ms)+'ms';if(ms<60000)return(ms/1000).toFixed(1)+'s';var s=Math.floor(ms/1000);
if(s<3600)return Math.floor(s/60)+'m'+String(s%60).padStart(2,'0')+'s';return Math.floor(s/3600)+'h'+String(Math.floor(s/60)%60).padStart(2,'0')+'m'}
function text(el,r){var f=r[11],open=r[5],close=r[6];
var life=close<0?(f&1?'≥':'')+dur(D.end-open)+' (still open)':(f&2?'< one poll':(f&1?'≥':'')+dur(close-open));
var l=['connection '+el.getAttribute('data-connection-id'),D.addr[r[0]]+':'+r[1]+' → '+D.peer[r[2]],'state '+D.state[r[10]]+(f&1?', preexisting':'')];
l.push('fd '+(r[3]<0?'-':r[3])+(r[4]<0?'':'   pid '+r[4]));
l.push('opened +'+dur(open)+(close<0?'':'   closed +'+dur(close)));
l.push('lifetime '+life);
if(r[7]>=0)l.push('exchanges '+r[7]);
if(r[8]>=0)l.push('bytes sent '+r[8]+'   received '+r[9]);
return l.join('\\n')}
tl.addEventListener('mousemove',function(e){var r=row.get(e.target);if(!r){tip.hidden=true;return}
tip.textContent=text(e.target,r);tip.hidden=false;var x=e.clientX+14,y=e.clientY+14;
if(x+tip.offsetWidth>innerWidth)x=e.clientX-tip.offsetWidth-8;if(y+tip.offsetHeight>innerHeight)y=e.clientY-tip.offsetHeight-8;
tip.style.left=x+'px';tip.style.top=y+'px'});
tl.addEventListener('mouseleave',function(){tip.hidden=true});
function pick(i,on){var rs=D.findings[i]||[];tl.classList.toggle('dim',on&&rs.length>0);
for(var k=0;k<rs.length;k++){var b=bars[rs[k]];if(b)b.classList.toggle('hl',on)}}
document.querySelectorAll('[data-finding]').forEach(function(el){var i=+el.getAttribute('data-finding');
el.addEventListener('mouseenter',function(){pick(i,true)});el.addEventListener('mouseleave',function(){pick(i,false)})});
document.body.setAttribute('data-ready','1')}
})();`;
